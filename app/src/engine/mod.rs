//! The orchestration engine: pure decisions over update runs (DESIGN.md §4). It lands with the
//! engine issue; the model it will decide over already lives in [`crate::model`].
