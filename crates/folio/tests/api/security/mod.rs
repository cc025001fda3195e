//! Security tests: Kirby's published advisories, and the attacks a CMS must withstand.

mod advisories;
mod attacks;
