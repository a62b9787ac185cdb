//! The parameters of a run, each defined once: its key (the sweep key and
//! the table column), title, symbol and scale for plots, the mechanisms it
//! applies to, how its value is read from a run's settings, how a sweep
//! list is applied to them and how it appears in a run id. The grid, the
//! checks of `validate.rs`, `runs.csv`/`summary.csv` and the report's axes
//! all go through [`Param`], so adding a parameter is one entry here (and
//! its list in [`SweepSection`] when it can be swept).

use sae_core::{KlReduction, SparsityConfig};

pub use crate::param_value::Value;
use crate::values::{L1Weight, NonEmpty};
use crate::{Experiment, SparsityKind, SweepSection};

/// How a parameter's values are laid out on a plot axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Numbers on a logarithmic axis.
    Log,
    /// Numbers on a linear axis.
    Linear,
    /// Names, one category each.
    Categorical,
}

/// Copies of `run`, one per value of `list`, each set by `set`; `None`
/// when the list is not given.
fn each<T>(list: &Option<NonEmpty<T>>, run: &Experiment, set: impl Fn(&mut Experiment, &T)) -> Option<Vec<Experiment>> {
    list.as_ref().map(|l| {
        l.0.iter()
            .map(|v| {
                let mut r = run.clone();
                set(&mut r, v);
                r
            })
            .collect()
    })
}

/// How a swept parameter is applied and named.
#[derive(Clone, Copy)]
pub struct Sweep {
    /// Its key in `[sweep]` (`seeds` for the seed).
    pub key: &'static str,
    /// What precedes its value in a run id (`rho` in `rho0.05`).
    pub id_prefix: &'static str,
    /// Copies of a run with each listed value set, or `None` when the
    /// experiment does not sweep it.
    pub vary: fn(&SweepSection, &Experiment) -> Option<Vec<Experiment>>,
}

/// What is known about a parameter.
#[derive(Clone, Copy)]
pub struct ParamDef {
    /// The column of `runs.csv` and `summary.csv`.
    pub key: &'static str,
    /// A title for plot axes.
    pub title: &'static str,
    /// Its symbol in legends (`ρ` in `ρ=0.05`); empty: the value alone.
    pub symbol: &'static str,
    /// How its values are plotted.
    pub scale: Scale,
    /// Whether its values are whole numbers (a drawn value is rounded).
    pub integer: bool,
    /// The mechanisms it applies to (empty: every run).
    pub mechanisms: &'static [SparsityKind],
    /// Its value in a run's settings (`None` where it does not apply).
    pub read: fn(&Experiment) -> Option<Value>,
    /// How it is swept, if it can be.
    pub sweep: Option<Sweep>,
}

/// Defines [`Param`] from one entry per parameter, in the order of the
/// tables' columns, which is also the grid's order (the seed innermost).
macro_rules! params {
    ($($variant:ident => $def:expr;)+) => {
        /// A parameter of a run.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Param {
            $(#[allow(missing_docs)] $variant,)+
        }

        impl Param {
            /// Every parameter, in column and grid order.
            pub const ALL: &'static [Param] = &[$(Param::$variant),+];

            /// Its definition.
            pub fn def(self) -> ParamDef {
                match self {
                    $(Param::$variant => $def,)+
                }
            }
        }
    };
}

const KL: &[SparsityKind] = &[SparsityKind::Kl];
const TOPK: &[SparsityKind] = &[SparsityKind::Topk, SparsityKind::Batchtopk];

/// A fixed setting: a column, never swept.
const fn fixed(key: &'static str, title: &'static str, read: fn(&Experiment) -> Option<Value>) -> ParamDef {
    ParamDef { key, title, symbol: "", scale: Scale::Categorical, integer: false, mechanisms: &[], read, sweep: None }
}

/// A switch of the model, on or off, swept by its own list of booleans.
const fn switch(
    key: &'static str,
    title: &'static str,
    id_prefix: &'static str,
    read: fn(&Experiment) -> Option<Value>,
    vary: fn(&SweepSection, &Experiment) -> Option<Vec<Experiment>>,
) -> ParamDef {
    let sweep = Some(Sweep { key, id_prefix, vary });
    ParamDef { key, title, symbol: key, scale: Scale::Categorical, integer: false, mechanisms: &[], read, sweep }
}

/// A switch as tables and run names write it: `on` or `off`.
fn on_off(on: bool) -> Value {
    Value::Text(if on { "on" } else { "off" }.into())
}

/// The penalty weight of an L1, JumpReLU or Gated mechanism (`kind`),
/// read from a run of that kind only ([`weight_of`]) and swept by its own
/// list (`vary`, which [`set_weight`]s each listed value).
const fn weight(
    key: &'static str,
    title: &'static str,
    symbol: &'static str,
    kind: &'static [SparsityKind; 1],
    read: fn(&Experiment) -> Option<Value>,
    vary: fn(&SweepSection, &Experiment) -> Option<Vec<Experiment>>,
    id_prefix: &'static str,
) -> ParamDef {
    let sweep = Some(Sweep { key, id_prefix, vary });
    ParamDef { key, title, symbol, scale: Scale::Log, integer: false, mechanisms: kind, read, sweep }
}

/// The penalty weight of `run` when its mechanism is of `kind`.
fn weight_of(run: &Experiment, kind: SparsityKind) -> Option<Value> {
    match run.sparsity.config {
        SparsityConfig::L1 { weight } | SparsityConfig::JumpRelu { weight, .. } | SparsityConfig::Gated { weight }
            if SparsityKind::of(&run.sparsity.config) == kind =>
        {
            Some(Value::Real(weight))
        }
        _ => None,
    }
}

/// Sets the penalty weight of `run`'s L1, JumpReLU or Gated mechanism.
fn set_weight(run: &mut Experiment, value: &L1Weight) {
    match &mut run.sparsity.config {
        SparsityConfig::L1 { weight } | SparsityConfig::JumpRelu { weight, .. } | SparsityConfig::Gated { weight } => {
            *weight = value.0
        }
        _ => {}
    }
}

fn kl(run: &Experiment) -> Option<(f64, f64, KlReduction)> {
    match run.sparsity.config {
        SparsityConfig::Kl { rho, beta, reduction } => Some((rho, beta, reduction)),
        _ => None,
    }
}

params! {
    Dataset => fixed("dataset", "dataset", |r| Some(Value::Text(r.data.dataset.to_string())));
    Train => fixed("train", "training images", |r| Some(Value::Integer(r.data.train.0 as u64)));
    Validation => fixed("validation", "validation images", |r| Some(Value::Integer(r.data.validation.0 as u64)));
    Test => fixed("test", "test images", |r| Some(Value::Integer(r.data.test.0 as u64)));
    SplitSeed => fixed("split_seed", "split seed", |r| Some(Value::Integer(r.data.split_seed)));
    Labels => fixed("labels", "labels kept", |r| {
        r.data.kept_labels().map(|l| Value::Text(l.iter().map(u8::to_string).collect::<Vec<_>>().join(" ")))
    });
    Corruption => ParamDef {
        key: "corruption",
        title: "corruption",
        symbol: "",
        scale: Scale::Categorical,
        integer: false,
        mechanisms: &[],
        read: |r| Some(Value::Text(r.corruption.0.label())),
        sweep: Some(Sweep {
            key: "corruption",
            id_prefix: "",
            vary: |s, run| each(&s.corruption, run, |r, c| r.corruption = *c),
        }),
    };
    Hidden => ParamDef {
        key: "hidden",
        title: "hidden units H",
        symbol: "H",
        scale: Scale::Log,
        integer: true,
        mechanisms: &[],
        read: |r| Some(Value::Integer(r.model.hidden.0 as u64)),
        sweep: Some(Sweep { key: "hidden", id_prefix: "h", vary: |s, run| each(&s.hidden, run, |r, h| r.model.hidden = *h) }),
    };
    Activation => fixed("activation", "code activation", |r| Some(Value::Text(r.model.activation.as_str().into())));
    Init => fixed("init", "initial weights", |r| Some(Value::Text(r.model.init.as_str().into())));
    PreBias => switch("pre_bias", "pre-encoder bias", "pre-", |r| Some(on_off(r.pre_bias())), |s, run| {
        each(&s.pre_bias, run, |r, v| r.model.pre_bias = Some(*v))
    });
    UnitAtoms => switch("unit_atoms", "unit-norm atoms", "unit-", |r| Some(on_off(r.unit_atoms())), |s, run| {
        each(&s.unit_atoms, run, |r, v| r.model.unit_atoms = Some(*v))
    });
    Sparsity => ParamDef {
        key: "sparsity",
        title: "sparsity mechanism",
        symbol: "",
        scale: Scale::Categorical,
        integer: false,
        mechanisms: &[],
        read: |r| Some(Value::Text(SparsityKind::of(&r.sparsity.config).as_str().into())),
        sweep: Some(Sweep {
            key: "sparsity",
            id_prefix: "",
            vary: |s, run| each(&s.sparsity, run, |r, m| r.sparsity = *m),
        }),
    };
    Rho => ParamDef {
        key: "rho",
        title: "target sparsity ρ",
        symbol: "ρ",
        scale: Scale::Log,
        integer: false,
        mechanisms: KL,
        read: |r| kl(r).map(|(rho, _, _)| Value::Real(rho)),
        sweep: Some(Sweep {
            key: "rho",
            id_prefix: "rho",
            vary: |s, run| each(&s.rho, run, |r, v| {
                if let SparsityConfig::Kl { rho, .. } = &mut r.sparsity.config {
                    *rho = v.0;
                }
            }),
        }),
    };
    Beta => ParamDef {
        key: "beta",
        title: "sparsity weight β",
        symbol: "β",
        scale: Scale::Log,
        integer: false,
        mechanisms: KL,
        read: |r| kl(r).map(|(_, beta, _)| Value::Real(beta)),
        sweep: Some(Sweep {
            key: "beta",
            id_prefix: "beta",
            vary: |s, run| each(&s.beta, run, |r, v| {
                if let SparsityConfig::Kl { beta, .. } = &mut r.sparsity.config {
                    *beta = v.0;
                }
            }),
        }),
    };
    Reduction => ParamDef {
        mechanisms: KL,
        ..fixed("reduction", "KL reduction", |r| kl(r).map(|(_, _, red)| Value::Text(red.as_str().into())))
    };
    L1Weight => weight("l1_weight", "L1 weight", "L1 w", &[SparsityKind::L1], |r| weight_of(r, SparsityKind::L1), |s, run| {
        each(&s.l1_weight, run, set_weight)
    }, "l1w");
    L0Weight => weight("l0_weight", "JumpReLU's L0 weight λ", "λ", &[SparsityKind::Jumprelu], |r| {
        weight_of(r, SparsityKind::Jumprelu)
    }, |s, run| each(&s.l0_weight, run, set_weight), "l0w");
    GatedWeight => weight("gated_weight", "Gated's L1 weight λ", "λ", &[SparsityKind::Gated], |r| {
        weight_of(r, SparsityKind::Gated)
    }, |s, run| each(&s.gated_weight, run, set_weight), "gw");
    K => ParamDef {
        key: "k",
        title: "units kept per image k",
        symbol: "k",
        scale: Scale::Log,
        integer: true,
        mechanisms: TOPK,
        read: |r| r.sparsity.config.top_k().or(r.sparsity.config.batch_top_k()).map(|k| Value::Integer(k as u64)),
        sweep: Some(Sweep {
            key: "k",
            id_prefix: "k",
            vary: |s, run| each(&s.k, run, |r, v| match &mut r.sparsity.config {
                SparsityConfig::Topk { k, .. } | SparsityConfig::BatchTopk { k, .. } => *k = v.0,
                _ => {}
            }),
        }),
    };
    AuxK => ParamDef {
        mechanisms: TOPK,
        ..fixed("aux_k", "AuxK's dead latents per image", |r| r.sparsity.config.aux().map(|a| Value::Integer(a.aux_k as u64)))
    };
    Lr => ParamDef {
        key: "lr",
        title: "learning rate",
        symbol: "lr",
        scale: Scale::Log,
        integer: false,
        mechanisms: &[],
        read: |r| Some(Value::Real(r.training.lr.0)),
        sweep: Some(Sweep { key: "lr", id_prefix: "lr", vary: |s, run| each(&s.lr, run, |r, v| r.training.lr = *v) }),
    };
    Epochs => ParamDef {
        key: "epochs",
        title: "epochs",
        symbol: "epochs",
        scale: Scale::Linear,
        integer: true,
        mechanisms: &[],
        read: |r| Some(Value::Integer(r.training.epochs.0 as u64)),
        sweep: Some(Sweep {
            key: "epochs",
            id_prefix: "e",
            vary: |s, run| each(&s.epochs, run, |r, v| r.training.epochs = *v),
        }),
    };
    BatchSize => fixed("batch_size", "batch size", |r| Some(Value::Integer(r.training.batch_size.0 as u64)));
    WeightDecay => fixed("weight_decay", "weight decay", |r| Some(Value::Real(r.training.weight_decay.0)));
    Seed => ParamDef {
        key: "seed",
        title: "seed",
        symbol: "seed",
        scale: Scale::Categorical,
        integer: true,
        mechanisms: &[],
        read: |r| Some(Value::Integer(r.training.seed)),
        sweep: Some(Sweep { key: "seeds", id_prefix: "s", vary: |s, run| each(&s.seeds, run, |r, v| r.training.seed = *v) }),
    };
}

impl Param {
    /// How many parameters there are.
    pub const COUNT: usize = Self::ALL.len();

    /// Whether it applies to runs of `kind`.
    pub fn applies_to(self, kind: SparsityKind) -> bool {
        let m = self.def().mechanisms;
        m.is_empty() || m.contains(&kind)
    }

    /// Whether it belongs to one mechanism (ρ, β, k...), so that a sweep
    /// over whole mechanisms already names it.
    pub fn of_a_mechanism(self) -> bool {
        !self.def().mechanisms.is_empty()
    }

    /// Whether `sweep` lists values of it.
    pub fn is_swept(self, sweep: &SweepSection) -> bool {
        self.def().sweep.is_some_and(|s| (s.vary)(sweep, &Experiment::default()).is_some())
    }

    /// Its value in `run`.
    pub fn read(self, run: &Experiment) -> Option<Value> {
        (self.def().read)(run)
    }

    /// A run's value as a legend entry: `ρ=0.05`, `gaussian1`, `–` where
    /// it does not apply.
    pub fn text(self, value: Option<&Value>) -> String {
        let value = value.map_or("–".into(), Value::to_string);
        match self.def().symbol {
            "" => value,
            symbol => format!("{symbol}={value}"),
        }
    }

    /// The title with its scale, for plot axes: `target sparsity ρ (log scale)`.
    pub fn axis_title(self) -> String {
        let d = self.def();
        match d.scale {
            Scale::Log => format!("{} (log scale)", d.title),
            _ => d.title.into(),
        }
    }

    /// The parameter whose column is `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.def().key == key)
    }
}
