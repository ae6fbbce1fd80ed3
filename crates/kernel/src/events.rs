//! Work done in the same transaction as a change, by parts of the system the changing code does
//! not know. A module's core emits an event to the observers it was given at start-up (timeline
//! extras, notification outbox, learning feedback …), so the core never imports the features
//! that react to it, and everything still commits or rolls back together.

use crate::db::Tx;
use crate::error::Result;
use std::sync::Arc;

/// Reacts to events of type `E` inside the emitting transaction. An error rolls the change back.
#[async_trait::async_trait]
pub trait Observer<E: Sync>: Send + Sync {
    async fn observe(&self, tx: &mut Tx, event: &E) -> Result<()>;
}

/// The observers of one kind of event, in the order they were added. Cheap to clone.
pub struct Observers<E>(Arc<Vec<Arc<dyn Observer<E>>>>);

impl<E> Clone for Observers<E> {
    fn clone(&self) -> Self {
        Observers(self.0.clone())
    }
}

impl<E> Default for Observers<E> {
    fn default() -> Self {
        Observers(Arc::new(Vec::new()))
    }
}

impl<E> std::fmt::Debug for Observers<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Observers({})", self.0.len())
    }
}

impl<E: Sync> Observers<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an observer after the existing ones.
    pub fn with(self, observer: impl Observer<E> + 'static) -> Self {
        let mut v: Vec<Arc<dyn Observer<E>>> = self.0.iter().cloned().collect();
        v.push(Arc::new(observer));
        Observers(Arc::new(v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Hands `event` to every observer in order; the first error stops and is returned.
    pub async fn emit(&self, tx: &mut Tx, event: &E) -> Result<()> {
        for o in self.0.iter() {
            o.observe(tx, event).await?;
        }
        Ok(())
    }
}
