//! The live token cache: refresh tokens in a file only its owner can read, under the user's cache
//! directory, so that one interactive sign-in serves a whole run. Refresh tokens are bound to
//! user and client, not to a resource (fidelity: refresh-cross-resource), so a cached one mints
//! tokens for any resource the user has consented to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// A file of refresh tokens, keyed by authority, client and user.
#[derive(Debug)]
pub struct TokenCache {
    path: PathBuf,
    entries: Mutex<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    refresh_tokens: BTreeMap<String, String>,
}

impl TokenCache {
    /// The default place: `$XDG_CACHE_HOME/mailscope/tokens.json` or `~/.cache/mailscope/tokens.json`.
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(base.join("mailscope").join("tokens.json"))
    }

    /// Opens the cache at `path`; a missing or unreadable file is an empty cache.
    pub fn open(path: &Path) -> Self {
        let entries = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
            .map(|file| file.refresh_tokens)
            .unwrap_or_default();
        Self {
            path: path.to_owned(),
            entries: Mutex::new(entries),
        }
    }

    /// Returns the refresh token saved for `key`.
    pub fn get(&self, key: &str) -> Option<Secret> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .map(|token| Secret::new("refresh-token", token.clone()))
    }

    /// Saves `token` for `key`, writing the file readable by its owner only.
    pub fn put(&self, key: &str, token: &Secret) -> std::io::Result<()> {
        self.change(|entries| {
            entries.insert(key.to_owned(), token.secret().to_owned());
        })
    }

    /// Forgets the refresh token saved for `key` (Entra refused it), in the file too.
    pub fn remove(&self, key: &str) -> std::io::Result<()> {
        self.change(|entries| {
            entries.remove(key);
        })
    }

    fn change(&self, change: impl FnOnce(&mut BTreeMap<String, String>)) -> std::io::Result<()> {
        let file = {
            let mut entries = self
                .entries
                .lock()
                .map_err(|_| std::io::Error::other("token cache lock"))?;
            change(&mut entries);
            CacheFile {
                refresh_tokens: entries.clone(),
            }
        };
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let bytes = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        write_private(&self.path, &bytes)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    // Written beside it and renamed over it: a run stopped mid-write leaves the old file whole.
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    // A file created earlier with wider permissions is narrowed too.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_private() {
        let path = std::env::temp_dir().join(format!("mailscope-cache-{}/tokens.json", std::process::id()));
        let cache = TokenCache::open(&path);
        assert!(cache.get("k").is_none());

        cache.put("k", &Secret::new("refresh-token", "1.AAA")).unwrap();

        assert_eq!(TokenCache::open(&path).get("k").unwrap().secret(), "1.AAA");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
