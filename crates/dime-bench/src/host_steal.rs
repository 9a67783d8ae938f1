//! The hypervisor's share of the CPU time the VM asked for ("steal": time a virtual CPU was ready
//! to run but the host ran something else), from the first line of `/proc/stat`. On this project's
//! 2-core VM a multi-threaded run slows down when steal rises, because every join waits for the
//! slowest virtual CPU; a one-thread run barely notices. The benches print it next to their rates.

/// Cumulative CPU time counters of all CPUs (in clock ticks), as `/proc/stat` gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTicks {
    /// Ticks the VM's CPUs ran something: user, nice, system, irq, softirq.
    pub busy: u64,
    /// Ticks stolen by the hypervisor.
    pub steal: u64,
}

impl CpuTicks {
    /// The counters now; `None` where `/proc/stat` is missing or unreadable (not Linux).
    pub fn read() -> Option<Self> {
        Self::parse(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// The counters from the text of `/proc/stat`: its `cpu` line holds user, nice, system, idle,
    /// iowait, irq, softirq, steal, ... (steal is the eighth; older kernels may lack it).
    pub fn parse(stat: &str) -> Option<Self> {
        let line = stat.lines().find(|l| l.starts_with("cpu "))?;
        let values: Vec<u64> = line.split_whitespace().skip(1).map(|v| v.parse().ok()).collect::<Option<_>>()?;
        let value = |i: usize| values.get(i).copied().unwrap_or(0);
        // Idle (fourth) and iowait (fifth) are time nothing wanted to run; guest and guest_nice
        // (ninth and tenth) are already counted in user and nice.
        let busy = value(0) + value(1) + value(2) + value(5) + value(6);
        (values.len() >= 4).then_some(Self { busy, steal: value(7) })
    }

    /// Percentage of the CPU time the VM asked for between `self` and `later` (its busy time
    /// and its stolen time) that the hypervisor took. Idle time is left out, so a one-thread run
    /// on two CPUs is not diluted by the idle one.
    pub fn steal_percent_until(&self, later: &Self) -> Option<f64> {
        let busy = later.busy.checked_sub(self.busy)?;
        let steal = later.steal.checked_sub(self.steal)?;
        (busy + steal > 0).then(|| 100.0 * steal as f64 / (busy + steal) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steal_is_the_eighth_counter_and_idle_time_is_left_out() {
        let before = "cpu  100 0 20 300 5 0 1 10 7 0\ncpu0 50 0 10 150 2 0 0 5 0 0\n";
        let after = "cpu  160 0 30 400 5 0 1 40 9 0\ncpu0 80 0 15 200 2 0 0 20 0 0\n";
        let (a, b) = (CpuTicks::parse(before).unwrap(), CpuTicks::parse(after).unwrap());
        assert_eq!(a, CpuTicks { busy: 121, steal: 10 });
        // 70 ticks busy (160 − 100 user, 30 − 20 system), 30 stolen: 30 of 100 asked for.
        assert_eq!(a.steal_percent_until(&b), Some(30.0));
        assert_eq!(b.steal_percent_until(&a), None);
        assert_eq!(a.steal_percent_until(&a), None);
    }

    #[test]
    fn text_without_a_cpu_line_gives_none() {
        assert_eq!(CpuTicks::parse("intr 1 2 3\n"), None);
        assert_eq!(CpuTicks::parse("cpu  1 x 3\n"), None);
    }
}
