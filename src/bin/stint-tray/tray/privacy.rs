//! The tray's "Privacy ▸" submenu: private time (nothing is recorded for a
//! while) and the privacy rules in force, one line each, so the employee
//! sees what stint keeps to itself without a terminal.

use stint::ipc::Request;
use stint::private::{Length, PrivateStatus};
use tray_icon::menu::{MenuId, MenuItem, PredefinedMenuItem, Submenu};

/// The lengths the menu offers, in its order.
const LENGTHS: [(&str, Length); 4] = [
    ("Private for 15 minutes", Length::For(15 * 60)),
    ("Private for 30 minutes", Length::For(30 * 60)),
    ("Private for 1 hour", Length::For(3600)),
    ("Private until I stop tracking", Length::UntilStop),
];

pub struct PrivacyMenu {
    menu: Submenu,
    lengths: Vec<(MenuItem, Length)>,
    end: MenuItem,
    lines: Vec<MenuItem>,
    shown: Vec<String>,
    /// The title shown, to log a change once.
    title: String,
}

/// The lines the submenu holds for `rules`.
pub fn rule_lines(rules: &[String]) -> Vec<String> {
    if rules.is_empty() {
        return vec!["No privacy rules".to_string()];
    }
    rules
        .iter()
        .map(|r| {
            // A menu line, not a page: `stint status` has the whole rule.
            let line = format!("Rule: {r}");
            match line.char_indices().nth(LINE_CHARS) {
                Some((cut, _)) => format!("{}…", &line[..cut]),
                None => line,
            }
        })
        .collect()
}

/// The longest rule line the menu shows.
const LINE_CHARS: usize = 60;

/// The submenu's title: what private time is doing.
pub fn title(p: &PrivateStatus) -> String {
    p.text().unwrap_or_else(|| "Privacy".to_string())
}

impl PrivacyMenu {
    pub fn new() -> PrivacyMenu {
        let menu = Submenu::new("Privacy", true);
        let lengths: Vec<(MenuItem, Length)> = LENGTHS
            .iter()
            .map(|(text, l)| (MenuItem::new(*text, true, None), *l))
            .collect();
        let end = MenuItem::new("End private time", false, None);
        for (item, _) in &lengths {
            let _ = menu.append(item);
        }
        let _ = menu.append(&end);
        let _ = menu.append(&PredefinedMenuItem::separator());
        PrivacyMenu {
            menu,
            lengths,
            end,
            lines: Vec::new(),
            shown: Vec::new(),
            title: "Privacy".to_string(),
        }
    }

    pub fn menu(&self) -> &Submenu {
        &self.menu
    }

    /// The request behind a click on one of its items.
    pub fn request(&self, id: &MenuId) -> Option<Request> {
        if id == self.end.id() {
            return Some(Request::Private {
                length: Length::Off,
            });
        }
        self.lengths
            .iter()
            .find(|(item, _)| item.id() == id)
            .map(|(_, l)| Request::Private { length: *l })
    }

    /// Follows the daemon's status: private time in the title, the rules as
    /// disabled lines (rebuilt only when they changed).
    pub fn show(&mut self, private: &PrivateStatus, tracking: bool, rules: &[String]) {
        let t = title(private);
        if t != self.title {
            self.menu.set_text(&t);
            tracing::info!(title = %t, "private time shown in the tray");
            self.title = t;
        }
        self.end.set_enabled(private.active());
        let allowed = tracking && private.max_mins_per_day != Some(0);
        for (item, _) in &self.lengths {
            item.set_enabled(allowed);
        }
        let lines = rule_lines(rules);
        if lines == self.shown {
            return;
        }
        for item in self.lines.drain(..) {
            let _ = self.menu.remove(&item);
        }
        for text in &lines {
            let item = MenuItem::new(text, false, None);
            if self.menu.append(&item).is_ok() {
                self.lines.push(item);
            }
        }
        tracing::info!(rules = rules.len(), "privacy rules shown in the tray");
        self.shown = lines;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_gets_a_line_and_none_says_so() {
        assert_eq!(rule_lines(&[]), ["No privacy rules"]);
        assert_eq!(
            rule_lines(&["Vault: app keepassxc → untracked".into()]),
            ["Rule: Vault: app keepassxc → untracked"]
        );
        let long = rule_lines(&["x".repeat(200)]);
        assert_eq!(long[0].chars().count(), LINE_CHARS + 1, "{long:?}");
    }

    #[test]
    fn the_title_says_what_private_time_does() {
        let mut p = PrivateStatus::default();
        assert_eq!(title(&p), "Privacy");
        p.since = Some("2026-12-04T10:00:00.000Z".into());
        assert_eq!(title(&p), "Private until you stop tracking");
        p.until = Some("2026-12-04T10:30:00.000Z".into());
        assert!(title(&p).starts_with("Private until "), "{}", title(&p));
    }
}
