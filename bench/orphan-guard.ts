/**
 * Preloaded (`--import`) into every server the bench starts, Rampart included: when the bench
 * process goes away without cleaning up (SIGKILL, a crash), its IPC channel closes and the
 * child stops itself instead of lingering as a server nobody owns.
 */
if (process.channel) {
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  // The listener must not keep a child alive that has otherwise finished (Rampart after a drain).
  process.channel.unref();
}
