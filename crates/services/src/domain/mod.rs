//! The service hall's vocabulary in one place: the domain types of every sub-domain
//! (`items`, `bundles`, `cases`, `evaluation`), re-exported for callers, and the `code_enum!`
//! macro they share. Pure: no SQL, no HTTP.

pub use crate::bundles::domain::*;
pub use crate::cases::domain::*;
pub use crate::cases::rules::*;
pub use crate::evaluation::domain::*;
pub use crate::items::domain::*;

/// An enum with a stable code and a zh-CN label; `parse` takes either.
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $code:literal, $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.code() == s || v.label() == s)
            }
        }
    };
}
pub(crate) use code_enum;
