//! The page's components. They render on the server and hydrate in the browser; the
//! uploads themselves run in the browser shell (`crate::browser`).

pub mod chunk;
pub mod drop_zone;
pub mod file_queue;
pub mod file_row;
pub mod home_page;
pub mod hooks_panel;
pub mod link_form;
pub mod link_page;
pub mod links_panel;
pub mod listing;
pub mod queue_view;
pub mod record_panel;
pub mod route;
pub mod shown_once;
pub mod stored_files;
pub mod tally;
pub mod text;
pub mod tokens_panel;
pub mod unfinished;
pub mod upload_page;
