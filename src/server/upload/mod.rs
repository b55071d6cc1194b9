//! What the server functions do: check each request against the policy and the token,
//! then ask the store; and the list of stored files.

pub mod calls;
pub mod file_list;
pub mod token;
