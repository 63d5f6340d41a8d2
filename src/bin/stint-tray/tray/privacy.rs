//! The tray's "Privacy ▸" submenu: the privacy rules in force, one line
//! each, so the employee sees what stint keeps to itself without a terminal.

use tray_icon::menu::{MenuItem, Submenu};

pub struct PrivacyMenu {
    menu: Submenu,
    lines: Vec<MenuItem>,
    shown: Vec<String>,
}

/// The lines the submenu holds for `rules`.
pub fn rule_lines(rules: &[String]) -> Vec<String> {
    if rules.is_empty() {
        return vec!["No privacy rules".to_string()];
    }
    rules.iter().map(|r| format!("Rule: {r}")).collect()
}

impl PrivacyMenu {
    pub fn new() -> PrivacyMenu {
        PrivacyMenu {
            menu: Submenu::new("Privacy", true),
            lines: Vec::new(),
            shown: Vec::new(),
        }
    }

    pub fn menu(&self) -> &Submenu {
        &self.menu
    }

    /// Follows the daemon's status: the rules as disabled lines, rebuilt
    /// only when they changed.
    pub fn show(&mut self, rules: &[String]) {
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
    }
}
