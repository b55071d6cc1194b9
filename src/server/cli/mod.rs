//! From the command line to a listening server: the settings, the secrets kept in the
//! data directory, start-up (serve, or one of the one-shot commands), and the
//! `links` commands.

pub mod config;
pub mod links;
pub mod secrets;
pub mod startup;
