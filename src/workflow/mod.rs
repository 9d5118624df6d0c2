//! The pure workflow core: parsing, validation and the expression language.

pub mod expr;
