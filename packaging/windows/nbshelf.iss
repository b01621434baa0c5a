; Inno Setup 6 script: installs the PyInstaller one-folder bundle for the current user (no admin
; rights) and makes .ipynb files open with nbshelf. Build on Windows, after
; `pyinstaller nbshelf.spec` made dist\nbshelf\ there:
;
;     iscc packaging\windows\nbshelf.iss        -> dist\nbshelf-<version>-setup.exe
;
; Installs to %LOCALAPPDATA%\Programs\nbshelf ({userpf}); registers under HKCU\Software\Classes
; only, and the uninstaller removes all of it (the notebooks library in the user's data folder is
; left alone: it is the user's).

#define AppName "nbshelf"
#define AppVersion "0.1.0"
#define ProgId "nbshelf.ipynb"
#define Bundle "..\..\dist\nbshelf"

[Setup]
AppId={{5E0B7C5A-3D1F-4C62-9B7E-6A2F0E9D41C7}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=nbshelf
DefaultDirName={userpf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesAssociations=yes
UninstallDisplayIcon={app}\nbshelf.exe
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{userprograms}\{#AppName}"; Filename: "{app}\nbshelf.exe"
Name: "{userdesktop}\{#AppName}"; Filename: "{app}\nbshelf.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; Flags: unchecked

[Registry]
; The ProgID: what an .ipynb opened with nbshelf looks like and how it is opened.
Root: HKCU; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "Jupyter notebook"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\nbshelf.exe,0"
Root: HKCU; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\nbshelf.exe"" ""%1"""
; .ipynb -> the ProgID (default handler unless the user chose another one), and listed in
; "Open with" either way.
Root: HKCU; Subkey: "Software\Classes\.ipynb"; ValueType: string; ValueName: ""; ValueData: "{#ProgId}"; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.ipynb"; ValueType: string; ValueName: "Content Type"; ValueData: "application/x-ipynb+json"; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Classes\.ipynb\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
; "Open with" also finds the application itself.
Root: HKCU; Subkey: "Software\Classes\Applications\nbshelf.exe\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\nbshelf.exe"" ""%1"""; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\Applications\nbshelf.exe\SupportedTypes"; ValueType: string; ValueName: ".ipynb"; ValueData: ""

[Run]
Filename: "{app}\nbshelf.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Python caches and logs the bundle may have written beside itself.
Type: filesandordirs; Name: "{app}\_internal\__pycache__"
