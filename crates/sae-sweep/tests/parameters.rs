//! The parameter table: one definition per parameter, every key unique,
//! every sweep list a parameter and every swept parameter a list.

use sae_sweep::{Param, SweepSection};

#[test]
fn parameter_keys_are_unique_and_round_trip() {
    for &p in Param::ALL {
        assert_eq!(Param::from_key(p.def().key), Some(p));
    }
    assert_eq!(Param::from_key("seeds"), None);
}

#[test]
fn every_sweep_list_is_a_parameter_and_every_swept_parameter_a_list() {
    let every = "corruption = [{ kind = \"none\" }]\nhidden = [8]\nsparsity = [{ kind = \"none\" }]\nrho = [0.1]\n\
                 beta = [1]\nk = [1]\nl1_weight = [0.1]\nlr = [0.1]\nepochs = [1]\nseeds = [1]\n\
                 l0_weight = [0.1]\ngated_weight = [0.1]\n\
                 pre_bias = [true]\nunit_atoms = [false]\n";
    let sweep: SweepSection = toml::from_str(every).unwrap();
    let listed = serde_json::to_value(&sweep).unwrap();
    let mut keys: Vec<&str> = listed.as_object().unwrap().keys().map(String::as_str).collect();
    let mut defined: Vec<&str> = Param::ALL.iter().filter_map(|p| p.def().sweep).map(|s| s.key).collect();
    keys.sort_unstable();
    defined.sort_unstable();
    assert_eq!(keys, defined);
    for &p in Param::ALL {
        assert_eq!(p.is_swept(&sweep), p.def().sweep.is_some(), "{p:?}");
        assert!(!p.is_swept(&SweepSection::default()), "{p:?}");
    }
}
