/**
 * Stream formats: how a bus event becomes the bytes of one SSE frame. The hub knows formats only
 * through this interface; `json` is its own, others (the dashboard's `html`) are plugged in.
 */
import type { TickerEvent } from '../bus/index.ts'
import { eventFrame } from './frame.ts'
import type { ReplayKey } from './handover.ts'

export interface StreamFormat {
  /** As in `?format=`. */
  readonly name: string
  /**
   * The frame of `event` for every stream of this format: called at most once per event per
   * format during fan-out (cache it if replays should share it). May throw: the hub logs and
   * counts the failure and sends the event to this format's streams no more.
   */
  frame (event: TickerEvent): Buffer
  /**
   * Set when a frame stands for the whole state of something (an html tile): what that is for an
   * event. A replay then sends only the last event of each key.
   */
  readonly replayKey?: ReplayKey
  /**
   * With a replayKey: the frame of the one replayed event of its key, standing for everything
   * of that key (all the tiles its topics show, each once). Defaults to frame().
   */
  replayFrame? (event: TickerEvent): Buffer
}

/** Each event as published: `data` is its JSON. */
export const jsonFormat: StreamFormat = { name: 'json', frame: eventFrame }
