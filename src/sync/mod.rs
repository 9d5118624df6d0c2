//! TODO: owned by a module author.
