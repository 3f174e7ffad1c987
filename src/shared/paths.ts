import * as path from 'node:path';

/** Whether `target` is `folder` or lies below it: `..data` in it is below it, `../data` is not. */
export function isInside(target: string, folder: string): boolean {
  const relative = path.relative(folder, target);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}
