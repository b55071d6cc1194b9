//! Secrets the server generates on first start and keeps in the data directory, readable
//! by its owner only: the upload-token key and the embedded store's credentials.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::server::system::{random_hex, write_atomically};

/// The generated secrets.
#[derive(Clone, Serialize, Deserialize)]
pub struct Secrets {
    /// Key for upload tokens (hex), unless one is configured.
    pub token_key: String,
    /// The embedded store's access key id.
    pub store_access_key: String,
    /// The embedded store's secret key.
    pub store_secret_key: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets").finish_non_exhaustive()
    }
}

/// Where the secrets live under the data directory.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("secrets.json")
}

/// Reads the secrets, creating them (mode 0600) the first time.
pub fn load_or_create(data_dir: &Path) -> io::Result<Secrets> {
    let path = path(data_dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not valid: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let secrets = Secrets {
                token_key: random_hex(32),
                store_access_key: format!("S3DROP{}", random_hex(7).to_ascii_uppercase()),
                store_secret_key: random_hex(20),
            };
            std::fs::create_dir_all(data_dir)?;
            let bytes = serde_json::to_vec_pretty(&secrets).map_err(io::Error::other)?;
            write_atomically(&path.with_extension("tmp"), &path, &bytes, true)?;
            Ok(secrets)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_reused_and_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = load_or_create(dir.path()).expect("created");
        let again = load_or_create(dir.path()).expect("read");
        assert_eq!(first.token_key, again.token_key);
        assert_eq!(first.store_secret_key, again.store_secret_key);
        assert_eq!(first.token_key.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(dir.path()))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{first:?}").contains(&first.token_key));
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_a_new_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(path(dir.path()), b"{not json").expect("written");
        assert!(load_or_create(dir.path()).is_err());
    }
}
