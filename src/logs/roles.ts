/**
 * The one table that says what a tag means. Readers keep tags as the tool
 * wrote them; this table maps them to the roles diagnosis works with. Users
 * extend it with `--tag-role` on the CLI (and, with the dashboard, a setting);
 * their rules come first.
 */
import { compileTagPattern, type TagMatcher } from './tag-pattern';

export const ROLES = [
  'loss',
  'evalLoss',
  'gradNorm',
  'paramGradNorm',
  'lr',
  'clipped',
  'maxNorm',
  'clipValue',
  'weightNorm',
  'updateRatio',
  'lossScale',
  'skipped',
  'skippedTotal',
] as const;
export type Role = (typeof ROLES)[number];

/**
 * A tag pattern: compared without regard to case; `*` matches any run of
 * characters, and `{name}` (at most once) matches a non-empty parameter name,
 * which becomes the series' parameter (tag-pattern.ts matches them).
 */
export interface TagRule {
  pattern: string;
  role: Role;
}

export const DEFAULT_TAG_RULES: readonly TagRule[] = [
  // Totals first: `grad_norm/total` must not read as a parameter named "total".
  ...['grad_norm', 'grad_norm/total', 'grad_norm/_total', 'grad_norm_total', 'grad_2.0_norm_total', 'grad_2.0_norm/total', 'train/grad_norm', 'global_norm', 'global_grad_norm',
    'gradients/global_norm', 'train.grad_norm', 'grad norm', 'gradient norm', 'total_norm', 'total_grad_norm', 'norm', 'train/norm', 'gradnorm', 'grad_norm_before_clip', 'optimizer/grad_norm',
    // fairseq's train_inner lines and its json log format
    'gnorm', 'train_inner/gnorm',
    // OLMo, OLMo-core, Composer's OptimizerMonitor, per-parameter CSV dumps
    'optim/total_grad_norm', 'optim/total grad norm', 'l2_norm/grad/global', 'grad_l2_norm', 'total_grad_l2_norm'].map(
    (pattern): TagRule => ({ pattern, role: 'gradNorm' }),
  ),
  ...['layers.{name}', 'grad_norm/{name}', 'grad_2.0_norm/{name}', 'grad_2.0_norm_{name}', 'gradients/{name}', 'gradient_norm/{name}', 'grad_norms/{name}', 'grad/{name}.norm', 'grad/{name}', 'grads/{name}', 'grad_norm.{name}',
    'optim/grad/{name}.norm', 'l2_norm/grad/{name}', '{name}_grad_l2_norm'].map(
    (pattern): TagRule => ({ pattern, role: 'paramGradNorm' }),
  ),
  ...['loss', 'train_loss', 'train/loss', 'train.loss', 'train_loss_step', 'train/loss_step', 'loss/train', 'train loss', 'lm loss', 'lm_loss', 'training_loss', 'train/lm_loss', 'loss_step',
    // OLMo, OLMo-core, Composer, detectron2, Ultralytics (its component losses), Keras's TensorBoard callback, llm.c, RLHF actor and critic
    'train/CrossEntropyLoss', 'train/CE loss', 'loss/train/total', 'total_loss', 'train/box_loss', 'train/cls_loss', 'train/dfl_loss', 'train/obj_loss', 'train/seg_loss', 'train/pose_loss', 'train/kobj_loss', 'train/giou_loss', 'train/l1_loss',
    'epoch_loss', 'batch_loss', 'trl', 'act_loss', 'actor_loss', 'actor loss', 'cri_loss', 'critic_loss', 'critic loss'].map(
    (pattern): TagRule => ({ pattern, role: 'loss' }),
  ),
  ...['eval_loss', 'eval/loss', 'eval.loss', 'val_loss', 'val/loss', 'valid_loss', 'validation_loss', 'loss/val', 'loss/eval', 'val loss', 'validation loss', 'test_loss',
    'tel', 'eval/*/CrossEntropyLoss', 'eval/lm/*/CE loss', 'metrics/eval/LanguageCrossEntropy', 'val/box_loss', 'val/cls_loss', 'val/dfl_loss', 'val/obj_loss', 'val/seg_loss', 'val/pose_loss', 'val/kobj_loss', 'val/giou_loss', 'val/l1_loss'].map(
    (pattern): TagRule => ({ pattern, role: 'evalLoss' }),
  ),
  ...['lr', 'learning_rate', 'learning rate', 'train/learning_rate', 'train.learning_rate', 'train/lr', 'lr-*', 'lr/*', 'optimizer/lr', 'lr_scheduler/lr', 'optim/LR*'].map((pattern): TagRule => ({ pattern, role: 'lr' })),
  { pattern: 'clipped', role: 'clipped' },
  { pattern: 'max_norm', role: 'maxNorm' },
  { pattern: 'clip_value', role: 'clipValue' },
  ...['weight_norms.{name}', 'weight_norm/{name}', 'param_norm/{name}', 'weights/{name}/norm'].map((pattern): TagRule => ({ pattern, role: 'weightNorm' })),
  ...['update_ratio/{name}', 'update_ratios.{name}'].map((pattern): TagRule => ({ pattern, role: 'updateRatio' })),
  ...['loss scale', 'loss_scale', 'scaler/scale', 'train/loss_scale', 'grad_scale'].map((pattern): TagRule => ({ pattern, role: 'lossScale' })),
  // Megatron counts skips per logging interval; DeepSpeed's `skipped=` counts them since the start.
  ...['number of skipped iterations', 'skipped_iterations', 'optim/step skipped'].map((pattern): TagRule => ({ pattern, role: 'skipped' })),
  { pattern: 'skipped', role: 'skippedTotal' },
];

export interface TagMeaning {
  role: Role;
  /** The parameter a per-parameter tag is about, as the tag spells it. */
  param?: string;
}

interface CompiledRule {
  match: TagMatcher;
  role: Role;
}

const compile = (rule: TagRule): CompiledRule => ({ match: compileTagPattern(rule.pattern), role: rule.role });

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Tag → role lookup with a cache, since a log repeats the same few tags millions of times. */
export class TagRoles {
  private readonly rules: CompiledRule[];
  private readonly cache = new Map<string, TagMeaning | null>();

  constructor(userRules: readonly TagRule[] = []) {
    this.rules = [...userRules, ...DEFAULT_TAG_RULES].map(compile);
  }

  meaning(tag: string): TagMeaning | undefined {
    let known = this.cache.get(tag);
    if (known === undefined) {
      known = this.lookup(tag);
      this.cache.set(tag, known);
    }
    return known ?? undefined;
  }

  private lookup(tag: string): TagMeaning | null {
    for (const rule of this.rules) {
      const match = rule.match(tag);
      if (match) return { role: rule.role, ...match };
    }
    return null;
  }
}
