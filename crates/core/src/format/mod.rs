//! Kirby's on-disk formats: `.txt` content files, literal PHP arrays and YAML.

pub mod php_array;
pub mod txt;
pub mod yaml;
