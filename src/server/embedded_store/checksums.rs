//! The checksums S3 defines, as one typed set: what a request promised, what the store
//! computed and verified, and what an object or part records (on disk as a map by the
//! algorithms' header names, as earlier versions wrote it).

use serde::{Deserialize, Serialize};

/// One of S3's checksum algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Sha1,
    Sha256,
    Crc64Nvme,
}

impl Algorithm {
    /// Every algorithm, in S3's order.
    pub const ALL: [Self; 5] = [
        Self::Crc32,
        Self::Crc32c,
        Self::Sha1,
        Self::Sha256,
        Self::Crc64Nvme,
    ];

    /// The name in the algorithm's header, `x-amz-checksum-<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "crc32",
            Self::Crc32c => "crc32c",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Crc64Nvme => "crc64nvme",
        }
    }
}

/// A value (base64, as S3 writes them) for each algorithm that has one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksums {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<String>,
}

impl Checksums {
    /// The value for `algorithm`.
    pub fn get(&self, algorithm: Algorithm) -> Option<&str> {
        self.slot(algorithm).as_deref()
    }

    /// Sets the value for `algorithm`.
    pub fn set(&mut self, algorithm: Algorithm, value: String) {
        *self.slot_mut(algorithm) = Some(value);
    }

    /// The algorithms with a value, and their values.
    pub fn iter(&self) -> impl Iterator<Item = (Algorithm, &str)> {
        Algorithm::ALL
            .into_iter()
            .filter_map(|a| Some((a, self.get(a)?)))
    }

    fn slot(&self, algorithm: Algorithm) -> &Option<String> {
        match algorithm {
            Algorithm::Crc32 => &self.crc32,
            Algorithm::Crc32c => &self.crc32c,
            Algorithm::Sha1 => &self.sha1,
            Algorithm::Sha256 => &self.sha256,
            Algorithm::Crc64Nvme => &self.crc64nvme,
        }
    }

    fn slot_mut(&mut self, algorithm: Algorithm) -> &mut Option<String> {
        match algorithm {
            Algorithm::Crc32 => &mut self.crc32,
            Algorithm::Crc32c => &mut self.crc32c,
            Algorithm::Sha1 => &mut self.sha1,
            Algorithm::Sha256 => &mut self.sha256,
            Algorithm::Crc64Nvme => &mut self.crc64nvme,
        }
    }
}

/// Builds an s3s output struct with `fields` and every checksum of `checksums` (the
/// wire types name the same five fields, `checksum_<name>`, in each output).
macro_rules! with_checksums {
    ($output:ident { $($field:ident : $value:expr),* $(,)? }, $checksums:expr) => {{
        let checksums: $crate::server::embedded_store::checksums::Checksums = $checksums;
        // Some outputs have no other fields.
        #[allow(clippy::needless_update)]
        let output = $output {
            $($field: $value,)*
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            checksum_crc64nvme: checksums.crc64nvme,
            ..Default::default()
        };
        output
    }};
}
pub(super) use with_checksums;

/// The checksums an s3s input struct carries (each names the same five fields).
macro_rules! checksums_in {
    ($input:expr) => {
        $crate::server::embedded_store::checksums::Checksums {
            crc32: $input.checksum_crc32,
            crc32c: $input.checksum_crc32c,
            sha1: $input.checksum_sha1,
            sha256: $input.checksum_sha256,
            crc64nvme: $input.checksum_crc64nvme,
        }
    };
}
pub(super) use checksums_in;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_set_reads_and_writes_the_map_earlier_versions_kept() {
        let old: BTreeMap<String, String> = [("crc32c".to_owned(), "AAAAAA==".to_owned())].into();
        let json = serde_json::to_string(&old).expect("json");
        let set: Checksums = serde_json::from_str(&json).expect("read");
        assert_eq!(set.get(Algorithm::Crc32c), Some("AAAAAA=="));
        assert_eq!(set.iter().count(), 1);
        assert_eq!(serde_json::to_string(&set).expect("json"), json);
        let mut all = Checksums::default();
        for a in Algorithm::ALL {
            all.set(a, a.name().to_owned());
        }
        let names: Vec<&str> = all.iter().map(|(_, v)| v).collect();
        assert_eq!(names, ["crc32", "crc32c", "sha1", "sha256", "crc64nvme"]);
    }
}
