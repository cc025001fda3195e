//! Page actions.
