//! From the command line to a listening server: the settings, the secrets kept in the
//! data directory, and start-up (serve, or one of the one-shot commands).

pub mod config;
pub mod secrets;
pub mod startup;
