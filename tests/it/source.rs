//! What the source may not contain, checked by reading it: no web or API
//! handler decides a permission or checks a form's token by hand (that is
//! `Store::grant` and the extractors' work), and no two modules depend on
//! each other, directly or around a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `text` without comments and with string and char literals emptied, so
/// what remains is code.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'r' if b.get(i + 1) == Some(&b'#')
                || (b.get(i + 1) == Some(&b'"')
                    && (i == 0 || !b[i - 1].is_ascii_alphanumeric())) =>
            {
                // A raw string: r"..." or r#"..."#.
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                j += 1;
                let end: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                while j < b.len() && !b[j..].starts_with(&end) {
                    j += 1;
                }
                out.push_str("\"\"");
                i = j + end.len();
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                out.push_str("\"\"");
                i += 1;
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') || (b.get(i + 1) == Some(&b'\\')) => {
                // A char literal ('x', '\n', '\u{..}'); lifetimes stay.
                let mut j = i + 1;
                if b[j] == b'\\' {
                    j += 1;
                }
                j += 1;
                while j < b.len() && b[j] != b'\'' {
                    j += 1;
                }
                out.push_str("' '");
                i = j + 1;
            }
            _ => {
                // Whole UTF-8 characters, not bytes.
                let c = text[i..].chars().next().unwrap();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// No web or API handler decides a permission, reads a session, records a
/// look or compares a form's token itself: only the extractors do, and
/// the store's grant.
#[test]
fn no_handler_spells_a_permission_check() {
    let forbidden = [
        "allowed(",
        "record_view(",
        "csrf_ok",
        "same_secret(",
        "SESSION_COOKIE)",
        "Role::Owner",
        "Role::Admin",
        ".role ==",
        ".role !=",
        "fn viewer(",
    ];
    let mut found = Vec::new();
    for dir in ["server/src/web", "server/src/api"] {
        for file in rust_files(&root().join(dir)) {
            if file.ends_with("extract.rs") {
                continue;
            }
            let code = code_only(&std::fs::read_to_string(&file).unwrap());
            // A file's tests (at its end) may make people of any role.
            let code = code.split("#[cfg(test)]").next().unwrap_or_default();
            for f in forbidden {
                if code.contains(f) {
                    found.push(format!("{}: {f}", file.display()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "permission checks by hand:\n{}",
        found.join("\n")
    );
}

/// A crate's module tree: each module's path (segments under the crate
/// root) and the files that make it.
fn modules(root_file: &Path) -> BTreeMap<Vec<String>, Vec<PathBuf>> {
    let mut out: BTreeMap<Vec<String>, Vec<PathBuf>> = BTreeMap::new();
    let mut todo = vec![(Vec::new(), root_file.to_path_buf())];
    while let Some((path, file)) = todo.pop() {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        out.entry(path.clone()).or_default().push(file.clone());
        let dir = file.parent().unwrap().to_path_buf();
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        let owns_dir = matches!(stem.as_str(), "mod" | "lib" | "main");
        let mut attrs: Vec<String> = Vec::new();
        for line in code_only_keep_attrs(&text).lines() {
            let t = line.trim();
            if t.starts_with("#[") {
                attrs.push(t.to_string());
                continue;
            }
            let decl = t
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub(super) ")
                .trim_start_matches("pub ");
            if let Some(name) = decl.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
                let name = name.trim().to_string();
                let mut child = path.clone();
                child.push(name.clone());
                let given: Vec<String> = attrs
                    .iter()
                    .filter_map(|a| a.split("path = \"").nth(1))
                    .filter_map(|a| a.split('"').next())
                    .map(str::to_string)
                    .collect();
                let candidates: Vec<PathBuf> = if given.is_empty() {
                    let base = if owns_dir {
                        dir.clone()
                    } else {
                        dir.join(&stem)
                    };
                    vec![
                        base.join(format!("{name}.rs")),
                        base.join(&name).join("mod.rs"),
                    ]
                } else {
                    given.iter().map(|g| dir.join(g)).collect()
                };
                for c in candidates.into_iter().filter(|c| c.exists()) {
                    todo.push((child.clone(), c));
                }
            }
            if !t.is_empty() {
                attrs.clear();
            }
        }
    }
    out
}

/// Like `code_only`, but attributes keep their strings (`#[path = ".."]`).
fn code_only_keep_attrs(text: &str) -> String {
    let code = code_only(text);
    text.lines()
        .zip(code.lines().chain(std::iter::repeat("")))
        .map(|(raw, code)| {
            if raw.trim_start().starts_with("#[") {
                raw.to_string()
            } else {
                code.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a `use` tree names, braces expanded: `a::{b, c::d}` gives
/// `a::b` and `a::c::d`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap().trim().to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand(p).into_iter().map(move |e| format!("{prefix}{e}")))
        .collect()
}

/// Every module path a file's code names: `use` trees and inline
/// `crate::…`, `super::…` and `self::…` paths, resolved from `me`.
fn references(code: &str, me: &[String]) -> BTreeSet<Vec<String>> {
    let mut raw: Vec<String> = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        rest = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(end) = rest.find(';') {
            raw.extend(expand(&rest[..end]));
        }
    }
    let bytes = code.as_bytes();
    for start in ["crate::", "super::", "self::"] {
        for (at, _) in code.match_indices(start) {
            if at > 0
                && (bytes[at - 1].is_ascii_alphanumeric()
                    || bytes[at - 1] == b'_'
                    || bytes[at - 1] == b':')
            {
                continue;
            }
            let end = code[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| at + e);
            raw.push(code[at..end].to_string());
        }
    }
    raw.into_iter()
        .filter_map(|p| {
            let segs: Vec<&str> = p
                .split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            let mut out: Vec<String>;
            let mut i = 0;
            match segs.first() {
                Some(&"crate") => {
                    out = Vec::new();
                    i = 1;
                }
                Some(&"super") | Some(&"self") => {
                    out = me.to_vec();
                    while let Some(&s) = segs.get(i) {
                        match s {
                            "super" => {
                                out.pop();
                            }
                            "self" => {}
                            _ => break,
                        }
                        i += 1;
                    }
                }
                _ => return None,
            }
            out.extend(segs[i..].iter().map(|s| s.to_string()));
            Some(out)
        })
        .collect()
}

/// The cycles among the nodes of `edges`, each once, as lists of nodes.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Strongly connected components (Tarjan); one with two or more nodes
    // holds a circle.
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        for w in t.edges.get(v).into_iter().flatten() {
            if !t.index.contains_key(w.as_str()) {
                visit(t, w);
                let lw = t.low[w.as_str()];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w.as_str()) {
                let iw = t.index[w.as_str()];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// No module depends on another that depends back on it, around any
/// circle. A module may use its parent's items and its parent its
/// children's (that is what `mod.rs` is for); between any other two, the
/// dependency counts between the siblings that hold them: `web::pages`
/// naming `web::reports` makes `pages` depend on `reports`, and
/// `store::objects` naming `private` makes `store` depend on `private`.
/// Test code counts too.
#[test]
fn no_module_depends_on_itself_around_a_circle() {
    let crates = [
        ("stint", "src/lib.rs"),
        ("stint (bin)", "src/main.rs"),
        ("stint-tray", "src/bin/stint-tray/main.rs"),
        ("stint-server", "server/src/lib.rs"),
        ("stint-server (bin)", "server/src/main.rs"),
        ("stint-common", "common/src/lib.rs"),
        ("stint-proto", "proto/src/lib.rs"),
    ];
    let mut report = Vec::new();
    for (name, root_file) in crates {
        let mods = modules(&root().join(root_file));
        assert!(!mods.is_empty(), "{name}: no modules under {root_file}");
        // Per common ancestor: the edges between its children, and why.
        let mut levels: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        let mut why: BTreeMap<(Vec<String>, String, String), String> = BTreeMap::new();
        for (me, files) in &mods {
            for file in files {
                let code = code_only(&std::fs::read_to_string(file).unwrap());
                for named in references(&code, me) {
                    // The module it names: the longest known prefix.
                    let Some(target) = (0..=named.len())
                        .rev()
                        .map(|n| named[..n].to_vec())
                        .find(|p| mods.contains_key(p))
                    else {
                        continue;
                    };
                    let common = me.iter().zip(&target).take_while(|(a, b)| a == b).count();
                    if common == me.len() || common == target.len() {
                        continue; // an ancestor or a descendant
                    }
                    let lca = me[..common].to_vec();
                    let (from, to) = (me[common].clone(), target[common].clone());
                    levels
                        .entry(lca.clone())
                        .or_default()
                        .entry(from.clone())
                        .or_default()
                        .insert(to.clone());
                    why.entry((lca, from, to)).or_insert_with(|| {
                        format!(
                            "{} names {}",
                            file.strip_prefix(root()).unwrap().display(),
                            named.join("::")
                        )
                    });
                }
            }
        }
        for (lca, edges) in &levels {
            for circle in cycles(edges) {
                let at = if lca.is_empty() {
                    "the crate root".to_string()
                } else {
                    lca.join("::")
                };
                let mut lines = vec![format!("{name}: under {at}: {}", circle.join(" <-> "))];
                for ((l, from, to), w) in &why {
                    if l == lca && circle.contains(from) && circle.contains(to) {
                        lines.push(format!("    {from} -> {to}: {w}"));
                    }
                }
                report.push(lines.join("\n"));
            }
        }
    }
    assert!(report.is_empty(), "import circles:\n{}", report.join("\n"));
}

#[test]
fn the_reader_finds_what_it_must() {
    assert_eq!(
        expand("super::{a, b::{c, d as e}}"),
        ["super::a", "super::b::c", "super::b::d"]
    );
    let code = code_only("use crate::x; // crate::y\nlet s = \"crate::z\"; super::w::f();");
    let me = vec!["m".to_string(), "n".to_string()];
    let got = references(&code, &me);
    let want: BTreeSet<Vec<String>> = [
        vec!["x".to_string()],
        vec!["m".into(), "w".into(), "f".into()],
    ]
    .into();
    assert_eq!(got, want);
    let mut edges = BTreeMap::new();
    edges.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    edges.insert(
        "b".to_string(),
        BTreeSet::from(["a".to_string(), "c".to_string()]),
    );
    assert_eq!(cycles(&edges), [vec!["a".to_string(), "b".to_string()]]);
}

/// The server holds no key that opens a sealed image: outside its tests it
/// neither opens a seal nor makes or keeps an X25519 secret.
#[test]
fn the_server_never_opens_a_sealed_image() {
    let mut found = Vec::new();
    for f in rust_files(&root().join("server/src")) {
        let text = std::fs::read_to_string(&f).unwrap();
        // The tests at a file's end make keys to seal to.
        let code = code_only(text.split("#[cfg(test)]").next().unwrap_or(&text));
        for banned in [
            "seal::open",
            "StaticSecret",
            "x25519_dalek",
            "EphemeralSecret",
        ] {
            if code.contains(banned) {
                found.push(format!("{}: {banned}", f.display()));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}
