//! Counted events as CloudWatch Embedded Metric Format (SPEC §4, §6): one
//! JSON line on stdout per count, namespace `SupportPlans`.

use jiff::Timestamp;
use serde_json::json;
use support_plans_domain::ports::Metrics;

#[derive(Debug, Clone, Copy, Default)]
pub struct EmfMetrics;

impl Metrics for EmfMetrics {
    fn count(&self, name: &'static str) {
        let line = json!({
            "_aws": {
                "Timestamp": Timestamp::now().as_millisecond(),
                "CloudWatchMetrics": [{"Namespace": "SupportPlans", "Dimensions": [[]], "Metrics": [{"Name": name, "Unit": "Count"}]}],
            },
            name: 1,
        });
        #[allow(clippy::print_stdout)]
        {
            println!("{line}");
        }
    }
}
