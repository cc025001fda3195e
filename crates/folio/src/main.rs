//! The `folio` binary: everything happens in [`folio::cli`].
#![forbid(unsafe_code)]

fn main() {
    folio::cli::main();
}
