// electron-builder `afterPack` hook: flips the Electron fuses in the packaged binary, so that whoever can
// start the app cannot turn it into something else. (electron-builder 26 has an `electronFuses` option, but it
// needs Node 22; this project builds with electron-builder 25 on Node 20.)
const path = require('node:path');
const { flipFuses, FuseVersion, FuseV1Options } = require('@electron/fuses');

/** The fuses for one platform. The main process forks nothing and the UI never comes from file://. */
function fusesFor(platform) {
  const mac = platform === 'darwin' || platform === 'mas';
  return {
    version: FuseVersion.V1,
    [FuseV1Options.RunAsNode]: false, // ELECTRON_RUN_AS_NODE does not make the binary a plain Node
    [FuseV1Options.EnableCookieEncryption]: true,
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false, // NODE_OPTIONS cannot inject code
    [FuseV1Options.EnableNodeCliInspectArguments]: false, // --inspect cannot attach a debugger
    // app.asar must match the hash built into the app. electron-builder 25 records that hash only in the
    // macOS Info.plist; on Windows the check would find no hash and the app would not start, and Linux has
    // no such check. So: on for macOS only.
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: mac,
    [FuseV1Options.OnlyLoadAppFromAsar]: true, // no app/ folder placed beside app.asar is ever loaded
    [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
    [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    // No code signing is configured: a macOS arm64 binary needs its ad-hoc signature redone after flipping.
    resetAdHocDarwinSignature: mac,
  };
}

/** Where electron-builder left the Electron binary (the .app bundle on macOS). */
function electronBinary(context) {
  const platform = context.electronPlatformName;
  const { appOutDir, packager } = context;
  if (platform === 'darwin' || platform === 'mas')
    return path.join(appOutDir, `${packager.appInfo.productFilename}.app`);
  if (platform === 'win32') return path.join(appOutDir, `${packager.appInfo.productFilename}.exe`);
  return path.join(appOutDir, packager.executableName);
}

async function afterPack(context) {
  await flipFuses(electronBinary(context), fusesFor(context.electronPlatformName));
}

module.exports = afterPack;
module.exports.default = afterPack;
module.exports.fusesFor = fusesFor;
module.exports.electronBinary = electronBinary;
