//! Hotline text intelligence, pure code: callers pass strings and rows, nothing here reads files,
//! the network or a database, and nothing is downloaded at run time.
//!
//! - [`text`]: normalisation (full-width, traditional → simplified), jieba segmentation with the
//!   bureau's user dictionary, stop words, character n-grams.
//! - [`features`]: sparse TF-IDF features over words, word bigrams and character n-grams.
//! - [`classify`]: a linear SVM (dual coordinate descent), temperature-calibrated probabilities,
//!   explanations.
//! - [`model`]: the versioned, serialisable [`model::Model`]: training (taxonomy seeds,
//!   self-training on unlabeled messages, hierarchical levels), prediction and evaluation.

pub mod classify;
pub mod features;
pub mod model;
pub mod text;

pub mod dedup;
pub mod hotspot;
pub mod quality;
pub mod signal;
