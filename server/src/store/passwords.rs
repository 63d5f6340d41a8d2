//! Passwords: argon2id hashes, a dummy hash so an unknown email costs the
//! same work as a known one, and the passwords refused before hashing: too
//! short, too long to hash cheaply, or one that tops the breach lists
//! (a small shipped list of the words and keyboard walks they are made
//! of, matched after stripping what people add to them).

use super::StoreError;

pub const MIN_CHARS: usize = 10;
/// argon2's cost grows with the input; nobody types more.
pub const MAX_BYTES: usize = 1024;

/// Words and walks the most common leaked passwords are built from, in the
/// form `core()` leaves them: lower case, no spaces, leetspeak undone,
/// digits and symbols around them removed.
const COMMON: &[&str] = &[
    "password",
    "passwort",
    "motdepasse",
    "contrasena",
    "senha",
    "qwerty",
    "qwertyuiop",
    "qwertz",
    "qwertzuiop",
    "azerty",
    "azertyuiop",
    "asdfgh",
    "asdfghjkl",
    "asdf",
    "asdfasdf",
    "zxcvbn",
    "zxcvbnm",
    "zxcv",
    "qazwsx",
    "qazwsxedc",
    "qaz",
    "wsx",
    "lqwe",
    "lqazwsx",
    "lqazwsxedc",
    "zaqlwsx",
    "zaqwsx",
    "lqwer",
    "lqwert",
    "lqwerty",
    "abc",
    "abcd",
    "abcdef",
    "abcdefg",
    "abcdefgh",
    "abcdefghij",
    "iloveyou",
    "iloveu",
    "letmein",
    "welcome",
    "admin",
    "administrator",
    "root",
    "login",
    "changeme",
    "changeit",
    "default",
    "secret",
    "master",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "basketball",
    "soccer",
    "hockey",
    "superman",
    "batman",
    "spiderman",
    "starwars",
    "pokemon",
    "princess",
    "sunshine",
    "shadow",
    "michael",
    "jennifer",
    "jordan",
    "hunter",
    "ranger",
    "trustnol",
    "trustno",
    "whatever",
    "freedom",
    "computer",
    "internet",
    "killer",
    "pepper",
    "cheese",
    "chocolate",
    "cookie",
    "flower",
    "summer",
    "winter",
    "spring",
    "autumn",
    "mustang",
    "harley",
    "ferrari",
    "charlie",
    "thomas",
    "daniel",
    "jessica",
    "ashley",
    "nicole",
    "samsung",
    "google",
    "facebook",
    "myspace",
    "linkedin",
    "apple",
    "microsoft",
    "windows",
    "access",
    "passport",
    "blink",
    "loveme",
    "lovely",
    "family",
    "friends",
    "forever",
    "matrix",
    "mercedes",
    "liverpool",
    "arsenal",
    "chelsea",
    "manchester",
    "barcelona",
    "juventus",
    "test",
    "testing",
    "tester",
    "guest",
    "user",
    "username",
    "stint",
    "timetracker",
    "company",
    "office",
    "work",
    "employee",
    "temp",
    "temporary",
    "newpassword",
    "mypassword",
    "yourpassword",
    "opensesame",
    "correcthorsebatterystaple",
    "letmeinnow",
    "passwordpassword",
    "ninja",
    "mickey",
    "minecraft",
    "fortnite",
    "lovelove",
    "babygirl",
    "angel",
    "buster",
    "tigger",
    "hello",
    "helloworld",
    "qwertyqwerty",
    "asdfqwer",
    "qweasd",
    "qweasdzxc",
    "monday",
    "january",
    "december",
];

/// Keyboard walks that mix digits into letters, matched as typed (lower
/// case, without spaces): a password that is the start of one (six
/// characters or more), or one followed by nothing but digits and symbols.
const WALKS: &[&str] = &[
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "1qaz2wsx3edc4rfv5tgb",
    "zaq12wsxcde34rfvbgt5",
    "1qazxsw23edcvfr4",
    "!qaz@wsx#edc$rfv",
    "a1b2c3d4e5f6g7h8i9j0",
    "qwe123",
    "123qwe",
    "abc123",
    "123abc",
    "qweasdzxc",
];

/// Lower case and without spaces: the password as a list would hold it.
fn typed(password: &str) -> String {
    password
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// A password reduced to what it is made of: typed, without the digits and
/// symbols people put before and after a word, and leetspeak read back as
/// letters.
fn core(password: &str) -> String {
    typed(password)
        .trim_matches(|c: char| !c.is_alphabetic())
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' | '|' => 'l',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            c => c,
        })
        .collect()
}

/// The shortest piece `text` repeats ("abc" of "abcabc"; `text` itself
/// when it repeats nothing).
fn unit(text: &str) -> &str {
    let c: Vec<(usize, char)> = text.char_indices().collect();
    let n = c.len();
    (1..n)
        .filter(|k| n % k == 0)
        .find(|&k| (k..n).all(|i| c[i].1 == c[i % k].1))
        .map_or(text, |k| &text[..c[k].0])
}

/// Whether `text` is a run like "abcdefg", "9876543" or "aaaaaaa".
fn run(text: &str) -> bool {
    let c: Vec<u32> = text.chars().map(u32::from).collect();
    c.len() >= 3
        && [0i64, 1, -1].iter().any(|step| {
            c.windows(2)
                .all(|w| i64::from(w[1]) - i64::from(w[0]) == *step)
        })
}

/// Refuses a password nobody should use, in words that say why.
pub fn check(password: &str) -> Result<(), StoreError> {
    let refuse = |why: &str| Err(StoreError::Invalid(why.to_string()));
    if password.chars().count() < MIN_CHARS {
        return refuse("A password needs at least 10 characters.");
    }
    if password.len() > MAX_BYTES {
        return refuse("A password may be at most 1024 bytes long.");
    }
    let distinct: std::collections::HashSet<char> = password.chars().collect();
    let typed = typed(password);
    if distinct.len() < 4 || run(&typed) || unit(&typed).len() < typed.len() {
        return refuse("That password is a run or a repeat of a few characters: choose another.");
    }
    let core = core(password);
    let walk = WALKS.iter().any(|w| {
        (typed.len() >= 6 && w.starts_with(typed.as_str()))
            || typed
                .strip_prefix(w)
                .is_some_and(|rest| rest.chars().all(|c| !c.is_alphabetic()))
    });
    if walk || core.chars().count() < 3 || COMMON.contains(&unit(&core)) {
        return refuse(
            "That password is one of the most common ones, which are tried first: choose another.",
        );
    }
    Ok(())
}

/// A hash for the password nobody has, so an unknown email costs the same
/// argon2 work as a known one.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash("not anybody's password").expect("hashing works"))
}

pub fn hash(password: &str) -> Result<String, StoreError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("cannot hash the password: {e}")))
}

pub fn matches(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    password.len() <= MAX_BYTES
        && PasswordHash::new(hash).is_ok_and(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_runs_and_short_passwords_are_refused() {
        for (password, ok) in [
            ("Max has a long password", true),
            ("correct horse battery", true),
            ("kim's own long password", true),
            ("Tr0ub4dor&3-staple", true),
            ("short", false),
            ("password123", false),
            ("Password2026!", false),
            ("P@ssw0rd2026", false),
            ("1234567890", false),
            ("0987654321", false),
            ("qwertyuiop", false),
            ("QWERTY123456", false),
            ("1q2w3e4r5t", false),
            ("aaaaaaaaaaaa", false),
            ("abcdefghijk", false),
            ("abcabcabcabc", false),
            ("iloveyou2026", false),
            ("welcome1234", false),
            ("letmein!!!!", false),
            ("correcthorsebatterystaple", false),
            ("helloworld1", false),
            ("2026-12-03!!", false),
            ("monkeymonkey12", false),
            ("trustno1trustno1", false),
        ] {
            assert_eq!(
                check(password).is_ok(),
                ok,
                "{password:?}: {:?}",
                check(password)
            );
        }
        assert!(check(&"x1y2".repeat(300)).is_err(), "too long or repeated");
    }

    #[test]
    fn hashes_verify_their_password_only() {
        let h = hash("a long enough password").unwrap();
        assert!(matches("a long enough password", &h));
        assert!(!matches("another password", &h));
        assert!(!matches(&"x".repeat(MAX_BYTES + 1), &h));
    }
}
