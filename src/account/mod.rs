//! Accounts: validated settings, where the password comes from, and server discovery.

pub mod autoconfig;
pub mod credentials;
pub mod settings;

pub use settings::{Account, AccountSettings, InvalidSetting, Protocol, Security, ServerAddr};
