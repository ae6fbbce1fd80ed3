//! argon2id password hashing, off the async threads.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use kernel::config::AuthConfig;
use kernel::error::{Error, Result};

fn hasher(cfg: &AuthConfig) -> Result<Argon2<'static>> {
    let params = Params::new(cfg.argon2_memory_kib, cfg.argon2_iterations, 1, None)
        .map_err(Error::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub async fn hash(cfg: &AuthConfig, password: &str) -> Result<String> {
    let cfg = cfg.clone();
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Ok(hasher(&cfg)?
            .hash_password(password.as_bytes(), &salt)
            .map_err(Error::internal)?
            .to_string())
    })
    .await
    .map_err(Error::internal)?
}

/// Verifies against a stored PHC string; the parameters come from the string itself.
pub async fn verify(password: &str, stored: &str) -> bool {
    let password = password.to_owned();
    let stored = stored.to_owned();
    tokio::task::spawn_blocking(move || match PasswordHash::new(&stored) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password: spends the same time on unknown users as on known ones.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3lq6NRlwAqIVmA2aXHR2iBCMbQbGAF0aVBKrQxuE8gM";

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let cfg = kernel::config::AuthConfig {
            argon2_memory_kib: 1024,
            argon2_iterations: 1,
            ..Default::default()
        };
        let h = super::hash(&cfg, "secret123").await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("secret123", &h).await);
        assert!(!super::verify("secret124", &h).await);
        assert!(!super::verify("x", "not a hash").await);
    }
}
