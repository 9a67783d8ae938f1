//! Polyak (exponential moving) averaging of parameters.

use crate::{params::check_same_names, ParamStore, Result};

/// `target ← (1 − τ)·target + τ·online` for every variable, in sorted name order.
/// `τ = 1` copies the online parameters.
pub fn polyak_update(target: &ParamStore, online: &ParamStore, tau: f64) -> Result<()> {
    check_same_names(target, online)?;
    for ((_, t), (_, o)) in target.iter().zip(online.iter()) {
        let mixed = ((t.as_tensor() * (1.0 - tau))? + (o.as_tensor() * tau)?)?;
        t.set(&mixed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    #[test]
    fn polyak_mixes_and_rejects_mismatched_stores() -> Result<()> {
        let dev = Device::Cpu;
        let mut target = ParamStore::new();
        let mut online = ParamStore::new();
        target.insert_host("a", vec![0.0, 1.0], &[2], DType::F32, &dev)?;
        online.insert_host("a", vec![1.0, 3.0], &[2], DType::F32, &dev)?;
        polyak_update(&target, &online, 0.25)?;
        assert_eq!(target.get("a")?.as_tensor().to_vec1::<f32>()?, vec![0.25, 1.5]);
        online.insert_host("b", vec![0.0], &[1], DType::F32, &dev)?;
        assert!(polyak_update(&target, &online, 0.5).is_err());
        Ok(())
    }
}
