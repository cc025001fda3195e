//! Error messages in the user's Panel language. Kirby localises its messages; Folio ships
//! its own translations (written for Folio, not Kirby's strings) for German and French.
//! The `key`, `code` and `details` of an error never change; only `message` does, and only
//! when the English message matches one of the patterns below (`{}` stands for a value,
//! which is carried over). Anything else stays English.

/// `(key, English pattern, German, French)`; `{}` placeholders in order.
const MESSAGES: &[(&str, &str, &str, &str)] = &[
    (
        "error.page.notFound",
        "The page \"{}\" cannot be found",
        "Die Seite „{}“ wurde nicht gefunden",
        "La page « {} » est introuvable",
    ),
    (
        "error.file.notFound",
        "The file \"{}\" cannot be found",
        "Die Datei „{}“ wurde nicht gefunden",
        "Le fichier « {} » est introuvable",
    ),
    (
        "error.user.notFound",
        "The user \"{}\" cannot be found",
        "Der Benutzer „{}“ wurde nicht gefunden",
        "L’utilisateur « {} » est introuvable",
    ),
    (
        "error.role.notFound",
        "The role \"{}\" cannot be found",
        "Die Rolle „{}“ wurde nicht gefunden",
        "Le rôle « {} » est introuvable",
    ),
    (
        "error.permission",
        "You are not allowed to do this",
        "Dazu fehlt dir die Berechtigung",
        "Vous n’avez pas l’autorisation de faire cela",
    ),
    (
        "error.file.sort.permission",
        "You are not allowed to do this",
        "Dazu fehlt dir die Berechtigung",
        "Vous n’avez pas l’autorisation de faire cela",
    ),
    (
        "error.file.changeName.permission",
        "You are not allowed to change the name of \"{}\"",
        "Du darfst den Namen von „{}“ nicht ändern",
        "Vous n’avez pas l’autorisation de renommer « {} »",
    ),
    (
        "error.file.changeTemplate.permission",
        "You are not allowed to change the template for the file \"{}\"",
        "Du darfst die Vorlage der Datei „{}“ nicht ändern",
        "Vous n’avez pas l’autorisation de changer le modèle du fichier « {} »",
    ),
    (
        "error.file.changeName.empty",
        "The name must not be empty",
        "Der Name darf nicht leer sein",
        "Le nom ne doit pas être vide",
    ),
    (
        "error.page.changeTitle.empty",
        "The title must not be empty",
        "Der Titel darf nicht leer sein",
        "Le titre ne doit pas être vide",
    ),
    (
        "error.site.changeTitle.empty",
        "The title must not be empty",
        "Der Titel darf nicht leer sein",
        "Le titre ne doit pas être vide",
    ),
    (
        "error.page.delete.hasChildren",
        "The page has subpages and cannot be deleted",
        "Die Seite hat Unterseiten und kann nicht gelöscht werden",
        "La page a des sous-pages et ne peut pas être supprimée",
    ),
    (
        "error.page.changeStatus.incomplete",
        "The page has errors and cannot be published",
        "Die Seite enthält Fehler und kann nicht veröffentlicht werden",
        "La page contient des erreurs et ne peut pas être publiée",
    ),
    (
        "error.page.slug.invalid",
        "Please enter a valid URL appendix",
        "Bitte gib einen gültigen URL-Anhang ein",
        "Veuillez saisir un suffixe d’URL valide",
    ),
    (
        "error.page.status.invalid",
        "Please set a valid page status",
        "Bitte wähle einen gültigen Seitenstatus",
        "Veuillez choisir un statut de page valide",
    ),
    (
        "error.page.duplicate",
        "A page with the URL appendix \"{}\" already exists",
        "Eine Seite mit dem URL-Anhang „{}“ gibt es schon",
        "Une page avec le suffixe d’URL « {} » existe déjà",
    ),
    (
        "error.page.draft.duplicate",
        "A page draft with the URL appendix \"{}\" already exists",
        "Einen Entwurf mit dem URL-Anhang „{}“ gibt es schon",
        "Un brouillon avec le suffixe d’URL « {} » existe déjà",
    ),
    (
        "error.user.email.invalid",
        "Please enter a valid email address",
        "Bitte gib eine gültige E-Mail-Adresse ein",
        "Veuillez saisir une adresse e-mail valide",
    ),
    (
        "error.user.language.invalid",
        "Please enter a valid language",
        "Bitte gib eine gültige Sprache ein",
        "Veuillez saisir une langue valide",
    ),
    (
        "error.user.password.invalid",
        "Please enter a valid password. Passwords must be at least 8 characters long.",
        "Bitte gib ein gültiges Passwort ein. Passwörter müssen mindestens 8 Zeichen lang sein.",
        "Veuillez saisir un mot de passe valide. Il doit comporter au moins 8 caractères.",
    ),
    (
        "error.user.password.wrong",
        "Wrong password",
        "Falsches Passwort",
        "Mot de passe incorrect",
    ),
    (
        "error.user.delete.lastAdmin",
        "The last admin cannot be deleted",
        "Der letzte Admin kann nicht gelöscht werden",
        "Le dernier administrateur ne peut pas être supprimé",
    ),
    (
        "error.user.delete.lastUser",
        "The last user cannot be deleted",
        "Der letzte Benutzer kann nicht gelöscht werden",
        "Le dernier utilisateur ne peut pas être supprimé",
    ),
    (
        "error.user.changeRole.lastAdmin",
        "The role for the last admin cannot be changed",
        "Die Rolle des letzten Admins kann nicht geändert werden",
        "Le rôle du dernier administrateur ne peut pas être modifié",
    ),
    (
        "error.user.duplicate",
        "A user with the email address \"{}\" already exists",
        "Einen Benutzer mit der E-Mail-Adresse „{}“ gibt es schon",
        "Un utilisateur avec l’adresse e-mail « {} » existe déjà",
    ),
    (
        "error.form.incomplete",
        "Please fix all form errors…",
        "Bitte behebe alle Fehler im Formular …",
        "Veuillez corriger toutes les erreurs du formulaire…",
    ),
    (
        "error.access.panel",
        "You are not allowed to access the panel",
        "Du hast keinen Zugang zum Panel",
        "Vous n’avez pas accès au Panel",
    ),
    (
        "error.access.login",
        "Invalid login",
        "Ungültige Anmeldung",
        "Identifiants invalides",
    ),
    (
        "error.site.notAccessible",
        "The site is not accessible",
        "Die Website ist nicht zugänglich",
        "Le site n’est pas accessible",
    ),
    (
        "error.content.conflict",
        "The content was changed since you loaded it (If-Match does not match)",
        "Der Inhalt wurde geändert, seit du ihn geladen hast (If-Match passt nicht)",
        "Le contenu a été modifié depuis son chargement (If-Match ne correspond pas)",
    ),
];

/// The languages [`translate`] knows besides English.
pub const LANGUAGES: &[&str] = &["de", "fr"];

/// The message for `key` in `lang` (a Panel language code such as `de` or `de_CH`), when
/// the English `message` matches a known pattern; otherwise `message` unchanged.
pub fn translate(lang: Option<&str>, key: Option<&str>, message: &str) -> String {
    let (Some(lang), Some(key)) = (lang, key) else {
        return message.to_string();
    };
    let base = lang
        .split(['_', '-'])
        .next()
        .unwrap_or(lang)
        .to_ascii_lowercase();
    let column = match base.as_str() {
        "de" => 0,
        "fr" => 1,
        _ => return message.to_string(),
    };
    for (k, en, de, fr) in MESSAGES {
        if *k != key {
            continue;
        }
        if let Some(values) = captures(en, message) {
            let target = if column == 0 { de } else { fr };
            return fill(target, &values);
        }
    }
    message.to_string()
}

/// The values of the `{}` placeholders when `message` has the shape of `pattern`.
fn captures(pattern: &str, message: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = pattern.split("{}").collect();
    let mut rest = message.strip_prefix(parts[0])?;
    let mut values = Vec::new();
    for (i, part) in parts.iter().enumerate().skip(1) {
        let last = i == parts.len() - 1;
        let at = if last {
            if part.is_empty() {
                rest.len()
            } else {
                rest.len()
                    .checked_sub(part.len())
                    .filter(|at| rest[*at..] == **part)?
            }
        } else {
            rest.find(part)?
        };
        values.push(rest[..at].to_string());
        rest = &rest[at + part.len()..];
    }
    (parts.len() > 1 || rest.is_empty()).then_some(values)
}

fn fill(pattern: &str, values: &[String]) -> String {
    let mut out = String::new();
    for (i, part) in pattern.split("{}").enumerate() {
        if i > 0 {
            out.push_str(values.get(i - 1).map(String::as_str).unwrap_or(""));
        }
        out.push_str(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_known_messages_with_their_values() {
        assert_eq!(
            translate(
                Some("de"),
                Some("error.page.notFound"),
                "The page \"blog/x\" cannot be found"
            ),
            "Die Seite „blog/x“ wurde nicht gefunden"
        );
        assert_eq!(
            translate(
                Some("fr_FR"),
                Some("error.user.password.wrong"),
                "Wrong password"
            ),
            "Mot de passe incorrect"
        );
    }

    #[test]
    fn everything_else_stays_english() {
        // English users, unknown languages, unknown keys and messages of another shape
        assert_eq!(translate(Some("en"), Some("error.page.notFound"), "x"), "x");
        assert_eq!(translate(None, Some("error.page.notFound"), "x"), "x");
        assert_eq!(
            translate(
                Some("tr"),
                Some("error.user.password.wrong"),
                "Wrong password"
            ),
            "Wrong password"
        );
        assert_eq!(
            translate(Some("de"), Some("error.other"), "Wrong password"),
            "Wrong password"
        );
        assert_eq!(
            translate(Some("de"), Some("error.page.notFound"), "Something else"),
            "Something else"
        );
        assert_eq!(
            translate(
                Some("de"),
                Some("error.user.password.wrong"),
                "Wrong password!"
            ),
            "Wrong password!"
        );
    }
}
