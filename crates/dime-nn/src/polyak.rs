//! Polyak (exponential moving) averaging of parameters.

use candle_core::{CpuStorage, DType, InplaceOp2, Layout};

use crate::{params::check_same_names, ParamStore, Result};

/// `target ← (1 − τ)·target + τ·online` for every variable, in sorted name order.
/// `τ = 1` copies the online parameters. Contiguous f32 variables on the CPU are mixed in place
/// (no temporaries), with the arithmetic of the candle expression used for the others
/// (`t·(1 − τ) + o·τ`, each product through candle's affine op, which adds 0), so both give
/// the same bits.
pub fn polyak_update(target: &ParamStore, online: &ParamStore, tau: f64) -> Result<()> {
    check_same_names(target, online)?;
    for ((_, t), (_, o)) in target.iter().zip(online.iter()) {
        let (t_tensor, o_tensor) = (t.as_tensor(), o.as_tensor());
        let in_place = t.device().is_cpu()
            && o.device().is_cpu()
            && t_tensor.dtype() == DType::F32
            && o_tensor.dtype() == DType::F32
            && t_tensor.is_contiguous()
            && o_tensor.is_contiguous()
            && t_tensor.shape() == o_tensor.shape();
        if in_place {
            t_tensor
                .inplace_op2(o_tensor, &PolyakMix { target_weight: (1.0 - tau) as f32, online_weight: tau as f32 })?;
            continue;
        }
        let mixed = ((t_tensor * (1.0 - tau))? + (o_tensor * tau)?)?;
        t.set(&mixed)?;
    }
    Ok(())
}

/// The in-place mix of [`polyak_update`]: `t = (t·w_t + 0) + (o·w_o + 0)` per element, as
/// candle computes `t·w_t + o·w_o` (the `+ 0` keeps the sign of zero the same).
struct PolyakMix {
    target_weight: f32,
    online_weight: f32,
}

impl InplaceOp2 for PolyakMix {
    fn name(&self) -> &'static str {
        "polyak-mix"
    }

    fn cpu_fwd(&self, s1: &mut CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> candle_core::Result<()> {
        let range =
            |l: &Layout| l.contiguous_offsets().ok_or_else(|| candle_core::Error::Msg("Polyak: not contiguous".into()));
        let ((t0, t1), (o0, o1)) = (range(l1)?, range(l2)?);
        match (s1, s2) {
            (CpuStorage::F32(target), CpuStorage::F32(online)) if t1 - t0 == o1 - o0 => {
                let (wt, wo) = (self.target_weight, self.online_weight);
                for (t, o) in target[t0..t1].iter_mut().zip(&online[o0..o1]) {
                    *t = (*t * wt + 0.0) + (*o * wo + 0.0);
                }
                Ok(())
            }
            _ => candle_core::bail!("Polyak: f32 storages of equal length expected"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

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

    #[test]
    fn in_place_mix_gives_the_candle_expression_bits() -> Result<()> {
        // Random values, signed zeros and a huge and a tiny value, at τ = 0.005 (SAC's).
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let n = 1000;
        let mut t = crate::init::standard_normal(&mut rng, n);
        let mut o = crate::init::standard_normal(&mut rng, n);
        (t[0], o[0], t[1], o[1], t[2], o[2]) = (-0.0, -0.0, 0.0, -0.0, 3e38, 1e-40);
        let tau = 0.005;
        let (mut target, mut online) = (ParamStore::new(), ParamStore::new());
        target.insert_host("w", t.clone(), &[n], DType::F32, &Device::Cpu)?;
        online.insert_host("w", o.clone(), &[n], DType::F32, &Device::Cpu)?;
        polyak_update(&target, &online, tau)?;
        let (tt, ot) = (Tensor::from_vec(t, n, &Device::Cpu)?, Tensor::from_vec(o, n, &Device::Cpu)?);
        let expected = ((tt * (1.0 - tau))? + (ot * tau)?)?.to_vec1::<f32>()?;
        let got = target.get("w")?.as_tensor().to_vec1::<f32>()?;
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&expected));
        Ok(())
    }
}
