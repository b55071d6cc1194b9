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

    /// The name in the algorithm's header, `x-amz-checksum-<name>` (and, in capitals, in
    /// `x-amz-checksum-algorithm`).
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
