//! `folio user add|list|passwd|role|delete`: account management from the command line. Every
//! change is a core user action committed through the app's write pipeline as Kirby's
//! almighty `kirby` user, so the same rules hold as for the API (the last admin stays an
//! admin, e-mail addresses are unique, passwords are long enough). Passwords come from a
//! no-echo prompt or from stdin, never from the command line. A running server picks the
//! change up through its watcher.

use anyhow::{Context, bail};
use clap::Subcommand;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use folio_core::actions::user::{self, NewUser};
use folio_core::actions::{Change, Precondition};
use folio_core::permissions::Actor;
use folio_core::{Error, Snapshot, accounts};

use crate::app::App;

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

fn open(root: Option<PathBuf>) -> anyhow::Result<App> {
    App::open(root, &[])
}

fn find(snap: &Snapshot, key: &str) -> anyhow::Result<usize> {
    snap.user_by_key(key)
        .with_context(|| format!("no account with the e-mail address or id `{key}`"))
}

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

fn kirby_error(e: Error) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

fn unknown_role(snap: &Snapshot, role: &str) -> anyhow::Error {
    let known: Vec<&str> = snap.roles.keys().map(String::as_str).collect();
    anyhow::anyhow!("unknown role `{role}` (roles: {})", known.join(", "))
}

/// Runs one write as the `kirby` user.
fn commit<T, F>(app: &App, action: F) -> anyhow::Result<T>
where
    F: Fn(&folio_core::actions::Ctx<'_>) -> Result<T, Error>,
{
    app.commit_blocking(&Actor::Kirby, Precondition::None, |ctx| {
        action(ctx).map(|out| (out, Change::Structure))
    })
    .map(|(out, _)| out)
    .map_err(kirby_error)
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
            let app = open(root)?;
            let snap = app.snapshot();
            // Validate everything cheap before asking for the password.
            let email = accounts::check_email(&email).map_err(kirby_error)?;
            if snap.user_by_key(&email).is_some() {
                bail!("an account with the e-mail address {email} already exists");
            }
            if !snap.roles.contains_key(&role) {
                return Err(unknown_role(&snap, &role));
            }
            let password = read_password()?;
            accounts::check_password(&password).map_err(kirby_error)?;
            let input = NewUser {
                id: None,
                email: email.clone(),
                password: Some(password),
                name,
                role: Some(role.clone()),
                language: Some(language),
                content: Default::default(),
            };
            let root = app.root.clone();
            let id = commit(&app, |ctx| user::create(ctx, &root, &input))?;
            println!("created {email} ({role}) as site/accounts/{id}");
        }
        UserCommand::List { root } => {
            let app = open(root)?;
            for u in &app.snapshot().users {
                println!(
                    "{}\t{}\t{}\t{}",
                    u.id,
                    u.email,
                    u.role,
                    u.name.as_deref().unwrap_or("")
                );
            }
        }
        UserCommand::Passwd { user: key, root } => {
            let app = open(root)?;
            let snap = app.snapshot();
            let u = find(&snap, &key)?;
            let (id, email) = (snap.users[u].id.clone(), snap.users[u].email.clone());
            let password = read_password()?;
            let root = app.root.clone();
            commit(&app, |ctx| {
                let u = user::by_id(ctx, &id)?;
                user::change_password(ctx, &root, u, None, &password)
            })?;
            println!("password changed for {email}");
        }
        UserCommand::Role {
            user: key,
            role,
            root,
        } => {
            let app = open(root)?;
            let snap = app.snapshot();
            let u = find(&snap, &key)?;
            if !snap.roles.contains_key(&role) {
                return Err(unknown_role(&snap, &role));
            }
            let (id, email) = (snap.users[u].id.clone(), snap.users[u].email.clone());
            let root = app.root.clone();
            commit(&app, |ctx| {
                let u = user::by_id(ctx, &id)?;
                user::change_role(ctx, &root, u, &role)
            })?;
            println!("{email} is now {role}");
        }
        UserCommand::Delete { user: key, root } => {
            let app = open(root)?;
            let snap = app.snapshot();
            let u = find(&snap, &key)?;
            let (id, email) = (snap.users[u].id.clone(), snap.users[u].email.clone());
            let root = app.root.clone();
            commit(&app, |ctx| {
                let u = user::by_id(ctx, &id)?;
                user::delete(ctx, &root, u)
            })?;
            println!("deleted {email}");
        }
    }
    Ok(())
}
