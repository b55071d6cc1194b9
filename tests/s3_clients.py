"""Real S3 clients against s3drop's embedded store, with their default settings.

docs/stores.md promises the AWS CLI, boto3 and rclone work against the embedded store; this
holds it to that: copy, sync, list, multipart, metadata, delete and a presigned GET with
each, checking the bytes that come back. Run by scripts/s3-clients.sh, which starts the
server and passes its endpoint and keys in the environment (S3_ENDPOINT, S3_BUCKET,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, S3_WORK for scratch files).

Each check prints one line; the last line says how many passed, and any failure makes
the exit status 1.
"""

import hashlib
import json
import os
import subprocess
import sys
import time
import traceback
import urllib.request
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

ENDPOINT = os.environ["S3_ENDPOINT"]
BUCKET = os.environ["S3_BUCKET"]
WORK = Path(os.environ["S3_WORK"])
MIB = 1024 * 1024

passed, failed = 0, []


def check(name):
    """Runs the decorated function as one named check, counting what passed."""

    def run(fn):
        global passed
        started = time.monotonic()
        try:
            fn()
        except Exception:  # noqa: BLE001 - every failure is reported, then counted
            failed.append(name)
            print(f"FAIL {name}\n{traceback.format_exc()}", flush=True)
        else:
            passed += 1
            print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)
        return fn

    return run


def random_file(path: Path, size: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = os.urandom(size)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def command(args: list[str], env: dict[str, str]) -> str:
    """Runs a client; answers what it printed, or fails with what it said."""
    out = subprocess.run(args, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {out.returncode}:\n{out.stdout}{out.stderr}")
    return out.stdout


def aws(*args: str) -> str:
    """The AWS CLI (v1, from PyPI), as a person would run it: path-style, our region."""
    env = {**os.environ, "AWS_CONFIG_FILE": str(WORK / "aws-config")}
    return command(["aws", "--endpoint-url", ENDPOINT, "--region", "us-east-1", *args], env)


def rclone(*args: str) -> str:
    env = {
        **os.environ,
        "RCLONE_CONFIG": str(WORK / "rclone.conf"),
        "RCLONE_CONFIG_DROP_TYPE": "s3",
        "RCLONE_CONFIG_DROP_PROVIDER": "Other",
        "RCLONE_CONFIG_DROP_ENDPOINT": ENDPOINT,
        "RCLONE_CONFIG_DROP_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
        "RCLONE_CONFIG_DROP_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
        "RCLONE_CONFIG_DROP_REGION": "us-east-1",
        "RCLONE_CONFIG_DROP_FORCE_PATH_STYLE": "true",
    }
    # rclone's S3 library cannot take AWS_CA_BUNDLE with its own HTTP transport (and
    # the endpoint is plain HTTP): a machine that sets it for other tools would break it.
    env.pop("AWS_CA_BUNDLE", None)
    return command(["rclone", *args], env)


(WORK / "aws-config").write_text("[default]\ns3 =\n  addressing_style = path\n")
s3 = boto3.client(
    "s3",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}),
)


def get(key: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


# --- the AWS CLI ----------------------------------------------------------------------


@check("aws s3 cp: a small file and a 20 MiB one (multipart) up and down again")
def _():
    small, large = WORK / "cli" / "small.txt", WORK / "cli" / "large.bin"
    digests = {small: random_file(small, 1234), large: random_file(large, 20 * MIB)}
    for path, digest in digests.items():
        aws("s3", "cp", str(path), f"s3://{BUCKET}/cli/{path.name}")
        back = WORK / "cli-back" / path.name
        aws("s3", "cp", f"s3://{BUCKET}/cli/{path.name}", str(back))
        assert sha256(back.read_bytes()) == digest, path.name
    # The large one went in parts (the CLI's threshold is 8 MiB): its ETag says how many.
    head = json.loads(aws("s3api", "head-object", "--bucket", BUCKET, "--key", "cli/large.bin"))
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]
    assert head["ContentLength"] == 20 * MIB


@check("aws s3 sync: a folder up, a change synced, the listing and the folder back")
def _():
    folder = WORK / "sync"
    # No empty file: the AWS CLI's own copy of botocore (1.43 in awscli 1.46) stalls 60 s
    # on the next request after an empty PUT to any server that, as RFC 9110 allows,
    # sends no 100 Continue for an empty body (botocore#3755; boto3's botocore is fixed,
    # and the boto3 check below sends one).
    digests = {f"d{i}/f{j}.bin": random_file(folder / f"d{i}" / f"f{j}.bin", 1 + 1000 * i + j) for i in range(3) for j in range(4)}
    # A minute old: sync takes a local file newer than its object (listings count whole
    # seconds) for changed, and files made in the second of their upload would all be.
    a_minute_ago = time.time() - 60
    for name in digests:
        os.utime(folder / name, (a_minute_ago, a_minute_ago))
    aws("s3", "sync", str(folder), f"s3://{BUCKET}/sync/")
    digests["d0/f0.bin"] = random_file(folder / "d0" / "f0.bin", 777)
    out = aws("s3", "sync", str(folder), f"s3://{BUCKET}/sync/")
    assert "d0/f0.bin" in out and "d1/f1.bin" not in out, out
    listed = aws("s3", "ls", "--recursive", f"s3://{BUCKET}/sync/")
    assert len(listed.strip().splitlines()) == 12, listed
    back = WORK / "sync-back"
    aws("s3", "sync", f"s3://{BUCKET}/sync/", str(back))
    for name, digest in digests.items():
        assert sha256((back / name).read_bytes()) == digest, name


@check("aws s3 rm and aws s3 presign: a presigned GET serves the bytes, a deleted key is gone")
def _():
    path = WORK / "cli" / "presigned.txt"
    digest = random_file(path, 4321)
    aws("s3", "cp", str(path), f"s3://{BUCKET}/cli/presigned.txt")
    url = aws("s3", "presign", f"s3://{BUCKET}/cli/presigned.txt", "--expires-in", "300").strip()
    with urllib.request.urlopen(url) as answer:
        assert sha256(answer.read()) == digest
    aws("s3", "rm", f"s3://{BUCKET}/cli/presigned.txt")
    listed = aws("s3", "ls", f"s3://{BUCKET}/cli/")
    assert "presigned.txt" not in listed, listed


# --- boto3 ------------------------------------------------------------------------------


@check("boto3: put_object with metadata, type and default checksum; head and get answer them")
def _():
    body = os.urandom(5000)
    s3.put_object(
        Bucket=BUCKET,
        Key="boto/meta.bin",
        Body=body,
        ContentType="application/x-test",
        Metadata={"owner": "s3drop", "note": "plain ascii"},
        CacheControl="no-cache",
    )
    head = s3.head_object(Bucket=BUCKET, Key="boto/meta.bin")
    assert head["ContentType"] == "application/x-test", head
    assert head["Metadata"] == {"owner": "s3drop", "note": "plain ascii"}, head["Metadata"]
    assert head["CacheControl"] == "no-cache", head
    assert sha256(get("boto/meta.bin")) == sha256(body)


@check("boto3: an empty object, then another PUT on the same connection")
def _():
    s3.put_object(Bucket=BUCKET, Key="boto/empty", Body=b"")
    s3.put_object(Bucket=BUCKET, Key="boto/after-empty", Body=b"after")
    assert get("boto/empty") == b"" and get("boto/after-empty") == b"after"
    assert s3.head_object(Bucket=BUCKET, Key="boto/empty")["ContentLength"] == 0


@check("boto3: upload_file in parts (5 MiB, four threads) and download_file")
def _():
    path = WORK / "boto" / "parts.bin"
    digest = random_file(path, 23 * MIB)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)
    s3.upload_file(str(path), BUCKET, "boto/parts.bin", Config=config)
    back = WORK / "boto" / "parts.back"
    s3.download_file(BUCKET, "boto/parts.bin", str(back), Config=config)
    assert sha256(back.read_bytes()) == digest
    assert s3.head_object(Bucket=BUCKET, Key="boto/parts.bin")["ETag"].strip('"').endswith("-5")


@check("boto3: a multipart upload by hand, listed while open, aborted, then gone")
def _():
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="boto/aborted.bin")
    s3.upload_part(Bucket=BUCKET, Key="boto/aborted.bin", UploadId=upload["UploadId"], PartNumber=1, Body=os.urandom(5 * MIB))
    listed = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="boto/")
    assert [u["Key"] for u in listed.get("Uploads", [])] == ["boto/aborted.bin"], listed
    parts = s3.list_parts(Bucket=BUCKET, Key="boto/aborted.bin", UploadId=upload["UploadId"])
    assert [p["PartNumber"] for p in parts["Parts"]] == [1]
    s3.abort_multipart_upload(Bucket=BUCKET, Key="boto/aborted.bin", UploadId=upload["UploadId"])
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=BUCKET, Prefix="boto/")


@check("boto3: list_objects_v2 pages, delete_objects removes a batch, a presigned GET works")
def _():
    for i in range(12):
        s3.put_object(Bucket=BUCKET, Key=f"boto/list/{i:02}.txt", Body=f"{i}".encode())
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="boto/list/", PaginationConfig={"PageSize": 5})
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert keys == [f"boto/list/{i:02}.txt" for i in range(12)], keys
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "boto/list/07.txt"}, ExpiresIn=300)
    with urllib.request.urlopen(url) as answer:
        assert answer.read() == b"7"
    deleted = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys]})
    assert len(deleted["Deleted"]) == 12, deleted
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="boto/list/")


# --- rclone -----------------------------------------------------------------------------


@check("rclone copy, check and sync: a folder with a multipart file up, compared, trimmed")
def _():
    folder = WORK / "rclone"
    random_file(folder / "a.txt", 100)
    random_file(folder / "sub" / "b.bin", 300_000)
    random_file(folder / "big.bin", 12 * MIB)
    rclone("copy", str(folder), f"drop:{BUCKET}/rclone", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M")
    # rclone compares sizes and hashes (MD5 where the ETag is one, its own for parts).
    rclone("check", str(folder), f"drop:{BUCKET}/rclone")
    listed = rclone("lsf", "-R", f"drop:{BUCKET}/rclone")
    assert sorted(listed.split()) == ["a.txt", "big.bin", "sub/", "sub/b.bin"], listed
    (folder / "a.txt").unlink()
    rclone("sync", str(folder), f"drop:{BUCKET}/rclone")
    listed = rclone("lsf", "-R", f"drop:{BUCKET}/rclone")
    assert sorted(listed.split()) == ["big.bin", "sub/", "sub/b.bin"], listed
    back = WORK / "rclone-back"
    rclone("copy", f"drop:{BUCKET}/rclone", str(back))
    assert sha256((back / "big.bin").read_bytes()) == sha256((folder / "big.bin").read_bytes())
    rclone("purge", f"drop:{BUCKET}/rclone")
    assert rclone("lsf", f"drop:{BUCKET}/") .count("rclone") == 0


print(f"s3 clients: {passed} passed, {len(failed)} failed", flush=True)
sys.exit(1 if failed else 0)
