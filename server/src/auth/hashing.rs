//! Password hashing off the async runtime, behind a concurrency limit.
//!
//! Each Argon2id verification takes 19 MiB and tens of milliseconds of CPU. Running them on
//! the blocking pool keeps request handling responsive; the semaphore bounds how many run at
//! once, so a login flood queues instead of exhausting memory.

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use super::password;

/// The pool of password workers. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PasswordWorkers {
    permits: Arc<Semaphore>,
}

/// A hash of a password nobody has, verified when the account is unknown or has no password,
/// so those answers take as long as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        password::hash_password("unused dummy password for constant-time answers").unwrap_or_else(
            |_| {
                "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
                    .to_string()
            },
        )
    })
}

impl PasswordWorkers {
    /// At most `concurrency` hashes at a time.
    pub fn new(concurrency: usize) -> Self {
        PasswordWorkers {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// Computes the dummy hash now, so the first unknown-user sign-in is not slower.
    pub async fn warm_up(&self) {
        let _ = tokio::task::spawn_blocking(dummy_hash).await;
    }

    /// Whether `password` matches `hash`; with no hash, verifies against a dummy and says no.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        let password = password.to_string();
        let hash = hash.map(str::to_string);
        Ok(tokio::task::spawn_blocking(move || match hash {
            Some(h) => password::verify_password(&password, &h),
            None => {
                let _ = password::verify_password(&password, dummy_hash());
                false
            }
        })
        .await?)
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let password = password.to_string();
        tokio::task::spawn_blocking(move || password::hash_password(&password))
            .await?
            .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
    }
}
