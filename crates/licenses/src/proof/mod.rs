//! The `sm2-jcs-2026` Data Integrity cryptosuite (docs/licenses-cryptosuite.md): pure code.
pub mod domain;
