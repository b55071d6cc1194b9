"""Validates s3drop's OpenAPI document (served at /api/openapi.json) with
openapi-spec-validator, an implementation of the specification's own schema that is not
s3drop's: the document must be one any OpenAPI 3.1 tool can read.

Usage: openapi_check.py URL
"""

import json
import sys
import urllib.request

from openapi_spec_validator import validate

with urllib.request.urlopen(sys.argv[1]) as answer:
    document = json.load(answer)
validate(document)  # raises, naming what is wrong, on an invalid document
paths = len(document["paths"])
schemas = len(document["components"]["schemas"])
print(f"openapi: the document validates as OpenAPI {document['openapi']} ({paths} paths, {schemas} schemas)")
