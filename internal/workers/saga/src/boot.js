// An id for this isolate's lifetime. A run records the boot it runs in; an execution recorded as
// running in an older boot has lost its run (the local runtime restarted) and is woken up.
// Random values cannot be made at module load in Workers, hence the lazy initialisation.
let boot;

export function bootId() {
  boot ??= crypto.randomUUID();
  return boot;
}
