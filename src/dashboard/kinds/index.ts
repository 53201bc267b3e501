/** Every tile kind, by name: what config may name in `kind:`. */
import type { TileKind } from '../../config/schema.ts'
import { chart } from './chart.ts'
import { clock } from './clock.ts'
import { feed } from './feed.ts'
import { gauge } from './gauge.ts'
import { generic } from './generic.ts'
import { list } from './list.ts'
import { number } from './number.ts'
import { status } from './status.ts'
import { system } from './system.ts'
import { text } from './text.ts'
import type { TileKindSpec } from './types.ts'

export const KINDS: Readonly<Record<TileKind, TileKindSpec>> = { clock, system, feed, generic, number, gauge, chart, list, text, status }
export type { TileDefinition, TileKindSpec, ViewInput, ViewModel } from './types.ts'
