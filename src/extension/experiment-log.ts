/**
 * An experiment's JSON-lines log, written as the run trains: each batch of
 * records from the training worker is appended as it arrives, so the Runs
 * view and the dashboard, which tail the file, show the steps as they
 * happen. No vscode import.
 */
import { appendFile } from 'node:fs/promises';
import { toJsonLine, type StepRecord } from '../engine/record';

export class ExperimentLog {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly onError: (error: Error) => void,
  ) {}

  /**
   * Queues the records behind the previous appends, keeping their order.
   * Appends run on libuv's thread pool: the host thread never waits for the disk.
   */
  append(records: readonly StepRecord[]): void {
    if (records.length === 0) return;
    const text = records.map((r) => toJsonLine(r) + '\n').join('');
    this.tail = this.tail.then(() => appendFile(this.file, text)).catch(this.onError);
  }

  /** Resolves when everything appended so far is in the file. */
  flushed(): Promise<void> {
    return this.tail;
  }
}
