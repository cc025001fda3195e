//! `folio user add|list|passwd|role|delete`: account management from the command line,
//! writing Kirby's account format. Passwords come from a no-echo prompt or from stdin,
//! never from the command line. A running server picks the change up through its watcher.

use anyhow::{Context, bail};
use clap::Subcommand;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use folio_core::Snapshot;
use folio_core::accounts::{self, NewAccount};

use crate::config::Config;

/// The `user` subcommands.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account (the password is read from a prompt or stdin).
    Add {
        /// E-mail address.
        email: String,
        /// Role name (a file in site/blueprints/users/, or `admin`).
        #[arg(long, default_value = "admin")]
        role: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Panel language.
        #[arg(long, default_value = "en")]
        language: String,
        /// The Kirby install root (defaults to the example site).
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// List accounts.
    List {
        /// The Kirby install root.
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Set a new password (read from a prompt or stdin); other sessions of the user end.
    Passwd {
        /// E-mail address or account id.
        user: String,
        /// The Kirby install root.
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Change an account's role.
    Role {
        /// E-mail address or account id.
        user: String,
        /// The new role.
        role: String,
        /// The Kirby install root.
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Delete an account.
    Delete {
        /// E-mail address or account id.
        user: String,
        /// The Kirby install root.
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

fn load(root: Option<PathBuf>) -> anyhow::Result<(PathBuf, Snapshot)> {
    let root = crate::site_root(root)?;
    let config = Config::load(&root, &[])?;
    let snap = Snapshot::build(&root, crate::snapshot_options(&config))?;
    Ok((root, snap))
}

fn find(snap: &Snapshot, key: &str) -> anyhow::Result<usize> {
    snap.user_by_key(key)
        .with_context(|| format!("no account with the e-mail address or id `{key}`"))
}

/// Reads a new password: twice from a no-echo prompt on a terminal, else one line of stdin.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let a = rpassword::prompt_password("New password: ")?;
        let b = rpassword::prompt_password("Repeat it: ")?;
        if a != b {
            bail!("the passwords do not match");
        }
        Ok(a)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
}

fn kirby_error(e: folio_core::Error) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Runs a `user` subcommand.
pub fn run(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            email,
            role,
            name,
            language,
            root,
        } => {
            let (root, snap) = load(root)?;
            // Validate everything cheap before asking for the password.
            let email = accounts::check_email(&email).map_err(kirby_error)?;
            if snap.user_by_key(&email).is_some() {
                bail!("an account with the e-mail address {email} already exists");
            }
            if !snap.roles.contains_key(&role) {
                let known: Vec<&String> = snap.roles.keys().collect();
                bail!(
                    "unknown role `{role}` (roles: {})",
                    known
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let password = read_password()?;
            accounts::check_password(&password).map_err(kirby_error)?;
            let id = accounts::create(
                &root,
                &snap,
                &NewAccount {
                    email: email.clone(),
                    name,
                    role: role.clone(),
                    language,
                    password,
                },
            )
            .map_err(kirby_error)?;
            println!("created {email} ({role}) as site/accounts/{id}");
        }
        UserCommand::List { root } => {
            let (_, snap) = load(root)?;
            for u in &snap.users {
                println!(
                    "{}\t{}\t{}\t{}",
                    u.id,
                    u.email,
                    u.role,
                    u.name.as_deref().unwrap_or("")
                );
            }
        }
        UserCommand::Passwd { user, root } => {
            let (root, snap) = load(root)?;
            let u = find(&snap, &user)?;
            let password = read_password()?;
            accounts::set_password(&root, &snap.users[u].id, &password).map_err(kirby_error)?;
            println!("password changed for {}", snap.users[u].email);
        }
        UserCommand::Role { user, role, root } => {
            let (root, snap) = load(root)?;
            let u = find(&snap, &user)?;
            if !snap.roles.contains_key(&role) {
                bail!("unknown role `{role}`");
            }
            if snap.users[u].role == "admin" && role != "admin" && snap.admin_count() <= 1 {
                bail!("the role of the last admin cannot be changed");
            }
            accounts::set_field(&root, &snap.users[u].id, "role", Some(&role))
                .map_err(kirby_error)?;
            println!("{} is now {role}", snap.users[u].email);
        }
        UserCommand::Delete { user, root } => {
            let (root, snap) = load(root)?;
            let u = find(&snap, &user)?;
            if snap.users[u].role == "admin" && snap.admin_count() <= 1 {
                bail!("the last admin cannot be deleted");
            }
            accounts::delete(&root, &snap.users[u].id).map_err(kirby_error)?;
            println!("deleted {}", snap.users[u].email);
        }
    }
    Ok(())
}
