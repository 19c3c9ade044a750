/**
 * The application menu as a plain template, so its shape (and that every view is reachable from the
 * keyboard through accelerators) is testable without Electron.
 */
import type { MenuItemConstructorOptions } from 'electron';

export type MenuView = 'live' | 'board' | 'settings';

export interface MenuStrings {
  file: string;
  chooseFolder: string;
  quit: string;
  view: string;
  live: string;
  board: string;
  settings: string;
  reload: string;
  fullscreen: string;
  zoomIn: string;
  zoomOut: string;
  resetZoom: string;
  help: string;
  about: string;
  edit: string;
  disclaimer: string;
}

export const MENU_STRINGS: Record<'en' | 'ko', MenuStrings> = {
  en: {
    file: 'File',
    chooseFolder: 'Choose Watched Folder…',
    quit: 'Quit',
    edit: 'Edit',
    view: 'View',
    live: 'Live',
    board: 'Board',
    settings: 'Settings',
    reload: 'Reload',
    fullscreen: 'Toggle Full Screen',
    zoomIn: 'Zoom In',
    zoomOut: 'Zoom Out',
    resetZoom: 'Actual Size',
    help: 'Help',
    about: 'About Eardrum Workstation',
    disclaimer: 'Decision support, not a diagnosis. A clinician makes the diagnosis.',
  },
  ko: {
    file: '파일',
    chooseFolder: '감시 폴더 선택…',
    quit: '종료',
    edit: '편집',
    view: '보기',
    live: '실시간',
    board: '판독 기록',
    settings: '설정',
    reload: '새로 고침',
    fullscreen: '전체 화면 전환',
    zoomIn: '확대',
    zoomOut: '축소',
    resetZoom: '원래 크기',
    help: '도움말',
    about: '고막 판독 워크스테이션 정보',
    disclaimer: '진단 보조 도구이며 진단이 아닙니다. 최종 진단은 의료진이 내립니다.',
  },
};

export interface MenuActions {
  navigate(view: MenuView): void;
  chooseFolder(): void;
  about(): void;
  quit(): void;
}

export function buildMenuTemplate(
  strings: MenuStrings,
  actions: MenuActions,
  platform: NodeJS.Platform,
): MenuItemConstructorOptions[] {
  const isMac = platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [];
  if (isMac) {
    template.push({
      label: 'Eardrum Workstation',
      submenu: [
        { label: strings.about, click: () => actions.about() },
        { type: 'separator' },
        { label: strings.settings, accelerator: 'Cmd+,', click: () => actions.navigate('settings') },
        { type: 'separator' },
        { label: strings.quit, accelerator: 'Cmd+Q', click: () => actions.quit() },
      ],
    });
  }
  template.push(
    {
      label: strings.file,
      submenu: [
        { label: strings.chooseFolder, accelerator: 'CmdOrCtrl+O', click: () => actions.chooseFolder() },
        ...(isMac
          ? []
          : [
              { type: 'separator' } as const,
              { label: strings.quit, accelerator: 'Ctrl+Q', click: () => actions.quit() },
            ]),
      ],
    },
    { label: strings.edit, role: 'editMenu' },
    {
      label: strings.view,
      submenu: [
        { label: strings.live, accelerator: 'CmdOrCtrl+1', click: () => actions.navigate('live') },
        { label: strings.board, accelerator: 'CmdOrCtrl+2', click: () => actions.navigate('board') },
        { label: strings.settings, accelerator: 'CmdOrCtrl+3', click: () => actions.navigate('settings') },
        { type: 'separator' },
        { label: strings.reload, role: 'reload' },
        { label: strings.zoomIn, role: 'zoomIn' },
        { label: strings.zoomOut, role: 'zoomOut' },
        { label: strings.resetZoom, role: 'resetZoom' },
        { label: strings.fullscreen, role: 'togglefullscreen' },
      ],
    },
    {
      label: strings.help,
      submenu: [{ label: strings.about, click: () => actions.about() }],
    },
  );
  return template;
}
