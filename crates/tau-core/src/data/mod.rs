//! The data set: studies with their effect sizes ([`dataset`]) and the
//! moderators that describe them ([`moderator`]).

pub mod dataset;
pub mod moderator;
pub mod reverse;
pub mod revman;
pub mod spreadsheet;
