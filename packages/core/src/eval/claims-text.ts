/**
 * What an evaluation commitment proves, and to whom — in the product's
 * words, every dashboard language. Shown on the Evaluations page, printed by
 * `parley eval verify`, carried (English) in the in-toto predicate, and
 * repeated in the docs. Changing a sentence here changes all of them.
 */
import type { Localized } from '../taxonomy/types.js';

/** What is provable, to whom — and what never is. */
export const EVALUATION_PROVABILITY: readonly Localized[] = [
  {
    en: 'Anyone holding the logs can check that the commitment was made before the deployment notice — by log order, by checkpoints the other parties cosigned, and by RFC 3161 time stamps — and that it never changed afterwards.',
    'zh-CN': '任何持有日志的人都可以核验：评估承诺早于部署通知作出（依据日志顺序、其他各方联署的检查点以及 RFC 3161 时间戳），并且此后从未被更改。',
  },
  {
    en: 'A party the evaluation is revealed to can check that each revealed value is exactly the one committed (its salted digest matches).',
    'zh-CN': '获得披露的一方可以核验：每一项披露的内容都与所承诺的完全一致（其加盐摘要相符）。',
  },
  {
    en: 'A third party learns only what a recipient forwards, and can check those values against the same commitment.',
    'zh-CN': '第三方只能得知接收方转交的内容，并可依据同一承诺核验这些内容。',
  },
  {
    en: 'None of this shows that the evaluation itself was sound: Parley proves what was committed and when, not that the tests were adequate or honestly run.',
    'zh-CN': '以上各项都不能证明评估本身是可靠的：Parley 证明的是承诺了什么以及何时承诺，而不是测试是否充分或是否如实执行。',
  },
];
