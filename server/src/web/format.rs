//! How values are spelled on pages and in CSV: h:mm durations, CSV fields a
//! spreadsheet will not run, and text from agents with its invisible
//! characters made visible.

/// "1:05" for an hour and five minutes.
pub fn hm(secs: u64) -> String {
    format!("{}:{:02}", secs / 3600, secs / 60 % 60)
}

/// "1:05:09": to the second, where a report promises that.
pub fn hms(secs: u64) -> String {
    format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// One RFC 4180 CSV field; text a spreadsheet would run as a formula gets a
/// leading apostrophe (a window title is anyone's text): one that begins
/// with `=`, `+`, `-`, `@`, a tab or a carriage return.
pub fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Characters that change how text around them reads without showing
/// themselves: C0 and C1 controls, and the bidirectional overrides,
/// embeddings, isolates and marks (a title could otherwise print
/// "exe.txt" for "txt.exe").
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` as a page shows it: every invisible character written out as
/// `[U+XXXX]`.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if invisible(c) {
            out.push_str(&format!("[U+{:04X}]", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The choice a form's `work` field names.
pub fn parse_work(text: &str) -> stint_proto::Work {
    let mut parts = text.trim().splitn(2, '/');
    let project = parts.next().filter(|p| !p.is_empty()).map(str::to_string);
    let task = parts.next().filter(|t| !t.is_empty()).map(str::to_string);
    stint_proto::Work {
        task_id: task.filter(|_| project.is_some()),
        project_id: project,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_that_a_spreadsheet_would_run_are_defused() {
        for (text, want) in [
            ("plain", "plain"),
            ("=1+2", "'=1+2"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "\"'\r=1\""),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ] {
            assert_eq!(field(text), want, "{text:?}");
        }
    }

    #[test]
    fn invisible_characters_are_shown_by_name() {
        for (text, want) in [
            ("main.rs - code", "main.rs - code"),
            ("invoice\u{202E}txt.exe", "invoice[U+202E]txt.exe"),
            ("a\u{2066}b\u{2069}", "a[U+2066]b[U+2069]"),
            ("bell\u{7}", "bell[U+0007]"),
            ("tab\tnew\nline", "tab[U+0009]new[U+000A]line"),
            ("\u{9B}c1", "[U+009B]c1"),
            ("日本語 ü", "日本語 ü"),
        ] {
            assert_eq!(visible(text), want, "{text:?}");
        }
        assert_eq!(hm(3_900), "1:05");
    }

    #[test]
    fn the_work_field_names_a_project_and_maybe_a_task() {
        let w = |p: Option<&str>, t: Option<&str>| stint_proto::Work {
            project_id: p.map(str::to_string),
            task_id: t.map(str::to_string),
        };
        for (text, want) in [
            ("", w(None, None)),
            ("p1", w(Some("p1"), None)),
            ("p1/t1", w(Some("p1"), Some("t1"))),
            ("/t1", w(None, None)),
        ] {
            assert_eq!(parse_work(text), want, "{text:?}");
        }
    }
}
