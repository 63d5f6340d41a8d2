//! `stint-server periods`: how time is cut into timesheet periods, and after
//! how many days a submitted one is approved by the policy.

use stint_server::periods::PeriodRule;
use stint_server::store::Store;

use super::print_json;

#[derive(clap::Args)]
pub struct Periods {
    /// weekly:DAY, biweekly:YYYY-MM-DD, semi-monthly or monthly.
    #[arg(long, value_name = "RULE")]
    rule: Option<String>,
    /// Approve a submitted period nobody decided on after this many days;
    /// 0 turns that off.
    #[arg(long, value_name = "DAYS")]
    auto_approve_days: Option<u32>,
}

pub fn run(store: &Store, args: Periods) -> anyhow::Result<()> {
    let mut s = store.period_settings()?;
    if let Some(rule) = &args.rule {
        let parsed = PeriodRule::parse(rule).map_err(|e| anyhow::anyhow!("--rule: {e}"))?;
        s.rule = Some(parsed.name());
    }
    if let Some(days) = args.auto_approve_days {
        s.auto_approve_days = (days > 0).then_some(days);
    }
    if args.rule.is_some() || args.auto_approve_days.is_some() {
        store.set_period_settings(&s)?;
    }
    print_json(&serde_json::json!({
        "rule": s.rule().name(),
        "auto_approve_days": s.auto_approve_days,
    }));
    Ok(())
}
