<#
.SYNOPSIS
  Installs, upgrades, rolls back or removes the kanshi agent as a Windows service (WinSW).

.DESCRIPTION
  Run in an elevated Windows PowerShell 5.1 ("Run as administrator"), from the
  unpacked Windows agent zip (kanshi-agent-<version>-windows.zip: this script
  beside kanshi-agent.mjs and kanshi-agent.xml):

    powershell.exe -ExecutionPolicy Bypass -File .\install-agent.ps1 `
      -WinSW D:\WinSW-x64.exe -CollectorUrl ws://kanshi01.example.lg.jp:8080/v1/agent

  or as deploy\windows\install-agent.ps1 in a built kanshi tree (it then takes
  dist\kanshi-agent.mjs).

  What it does, every run (idempotent):
   1. checks node.exe (Node.js 20 or newer);
   2. stops the service kanshi-agent if it runs;
   3. copies the single-file agent kanshi-agent.mjs (no node_modules) to
      C:\Program Files\kanshi, keeping the one it replaces in previous\;
      WinSW as kanshi-agent.exe with kanshi-agent.xml; this script and the docs;
   4. creates C:\ProgramData\kanshi\ with agent-data\ (the spool) and logs\,
      readable only by SYSTEM and Administrators (agent.yaml holds the token);
   5. writes C:\ProgramData\kanshi\agent.yaml only if it does not exist
      (asks for the token), and never changes an existing one;
   6. installs the service (WinSW install) if it does not exist, sets
      delayed automatic start and restart on failure (sc.exe);
   7. starts the service when agent.yaml is complete.
  Upgrade: run it again from the newer zip. Roll back: -Rollback (to the
  version kept in previous\), or run the older zip's script.

.PARAMETER WinSW
  Path of the WinSW 2.x executable (WinSW-x64.exe, or WinSW.NET461.exe).
  Required on the first install; later runs keep the installed copy unless given.

.PARAMETER Node
  Path of node.exe. Default: C:\Program Files\nodejs\node.exe, else node.exe on PATH.

.PARAMETER Id
  Agent id written to a new agent.yaml. Default: the computer name in lower case.

.PARAMETER CollectorUrl
  collector.url written to a new agent.yaml, e.g. wss://kanshi01.example.lg.jp:8443/v1/agent.

.PARAMETER CaFile
  PEM file of the private CA that signed the collector's certificate (for wss://).
  Copied to C:\ProgramData\kanshi\ca.crt; a new agent.yaml points collector.ca at it.

.PARAMETER Rollback
  Swap C:\Program Files\kanshi\kanshi-agent.mjs with previous\kanshi-agent.mjs
  (the version before the last upgrade) and restart the service. Run it again
  to go forward again.

.PARAMETER Uninstall
  Stop and remove the service and C:\Program Files\kanshi. C:\ProgramData\kanshi
  (config, unsent data, logs) is kept unless -RemoveData is given too.

.PARAMETER RemoveData
  With -Uninstall: also delete C:\ProgramData\kanshi.
#>
#Requires -Version 5.1
#Requires -RunAsAdministrator
[CmdletBinding()]
param(
  [string]$WinSW = '',
  [string]$Node = '',
  [string]$Id = '',
  [string]$CollectorUrl = '',
  [string]$CaFile = '',
  [switch]$Rollback,
  [switch]$Uninstall,
  [switch]$RemoveData
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$ServiceName = 'kanshi-agent'
# ProgramW6432 is "C:\Program Files" even in a 32-bit PowerShell.
$ProgramFilesDir = $env:ProgramW6432
if (-not $ProgramFilesDir) { $ProgramFilesDir = $env:ProgramFiles }
$ProgramDir = Join-Path $ProgramFilesDir 'kanshi'
$DataRoot = Join-Path $env:ProgramData 'kanshi'
$DataDir = Join-Path $DataRoot 'agent-data'
$LogDir = Join-Path $DataRoot 'logs'
$ConfigFile = Join-Path $DataRoot 'agent.yaml'
$CaTarget = Join-Path $DataRoot 'ca.crt'
$ServiceExe = Join-Path $ProgramDir ($ServiceName + '.exe')
$ServiceXml = Join-Path $ProgramDir ($ServiceName + '.xml')
$AgentTarget = Join-Path $ProgramDir 'kanshi-agent.mjs'
$PreviousDir = Join-Path $ProgramDir 'previous'
$AgentPrevious = Join-Path $PreviousDir 'kanshi-agent.mjs'
# Two layouts: the Windows zip (everything beside this script) or a built tree
# (this script in deploy\windows, the agent in dist\).
if (Test-Path -LiteralPath (Join-Path $PSScriptRoot 'kanshi-agent.mjs') -PathType Leaf) {
  $AgentSource = Join-Path $PSScriptRoot 'kanshi-agent.mjs'
  $XmlSource = Join-Path $PSScriptRoot 'kanshi-agent.xml'
  $DocSources = @(Get-ChildItem -LiteralPath $PSScriptRoot -Filter '*.md' | ForEach-Object { $_.FullName })
  $ExampleSource = Join-Path $PSScriptRoot 'agent.yaml'
} else {
  $tree = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '..\..')).Path.TrimEnd('\')
  $AgentSource = Join-Path $tree 'dist\kanshi-agent.mjs'
  $XmlSource = Join-Path $tree 'deploy\windows\kanshi-agent.xml'
  $DocSources = @('deploy-windows.md', 'operations.md', 'operations.ja.md', 'upgrade.md', 'configuration.md') |
    ForEach-Object { Join-Path $tree "docs\$_" } | Where-Object { Test-Path -LiteralPath $_ }
  $ExampleSource = Join-Path $tree 'examples\agent.yaml'
}
$Utf8NoBom = New-Object System.Text.UTF8Encoding($false)

# Invoke-Native runs an external program and throws when its exit code is above
# MaxOk. ErrorActionPreference is relaxed meanwhile: in Windows PowerShell 5.1 a
# line on stderr would otherwise stop the script even when the program succeeds.
function Invoke-Native {
  param([string]$What, [string]$Exe, [string[]]$Arguments, [int]$MaxOk = 0)
  $saved = $ErrorActionPreference
  $ErrorActionPreference = 'Continue'
  try {
    $out = & $Exe @Arguments 2>&1 | Out-String
    $code = $LASTEXITCODE
  } finally {
    $ErrorActionPreference = $saved
  }
  if ($code -gt $MaxOk) {
    $text = ''
    if ($out) { $text = $out.Trim() }
    throw ('{0} failed (exit code {1}): {2}' -f $What, $code, $text)
  }
}

function Stop-Agent {
  $svc = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
  if ($svc -and $svc.Status -ne 'Stopped') {
    Write-Host "Stopping service $ServiceName ..."
    Stop-Service -Name $ServiceName -Force
  }
}

function Get-AgentVersion([string]$File) {
  if (-not (Test-Path -LiteralPath $File -PathType Leaf)) { return '(none)' }
  $saved = $ErrorActionPreference
  $ErrorActionPreference = 'Continue'
  try { return (& $nodeExe $File --version 2>&1 | Out-String).Trim() } finally { $ErrorActionPreference = $saved }
}

function Find-Node {
  if ($Node) {
    if (-not (Test-Path -LiteralPath $Node -PathType Leaf)) { throw "node.exe not found at $Node" }
    return (Resolve-Path -LiteralPath $Node).Path
  }
  $exe = Join-Path $ProgramFilesDir 'nodejs\node.exe'
  if (Test-Path -LiteralPath $exe -PathType Leaf) { return $exe }
  $cmd = Get-Command -Name 'node.exe' -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
  if (-not $cmd) {
    throw 'node.exe was not found. Install Node.js 20 LTS or newer (the Windows x64 .msi, carried in on approved media), then run this script again.'
  }
  return $cmd.Path
}

# ---------------------------------------------------------------- rollback
if ($Rollback) {
  if (-not (Test-Path -LiteralPath $AgentPrevious -PathType Leaf)) {
    throw "No previous version in $PreviousDir. Run install-agent.ps1 from the older version's zip instead."
  }
  $nodeExe = Find-Node
  Stop-Agent
  $swap = Join-Path $PreviousDir 'kanshi-agent.swap'
  Move-Item -LiteralPath $AgentTarget -Destination $swap -Force
  Move-Item -LiteralPath $AgentPrevious -Destination $AgentTarget -Force
  Move-Item -LiteralPath $swap -Destination $AgentPrevious -Force
  Write-Host ("Rolled back: now {0}; {1} kept in {2} (run -Rollback again to return to it)." -f (Get-AgentVersion $AgentTarget), (Get-AgentVersion $AgentPrevious), $PreviousDir)
  Start-Service -Name $ServiceName
  Get-Service -Name $ServiceName | Format-Table -AutoSize -Property @('Name', 'Status') | Out-String | Write-Host
  return
}

# ---------------------------------------------------------------- uninstall
if ($Uninstall) {
  $svc = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
  if ($svc) {
    Stop-Agent
    if (Test-Path -LiteralPath $ServiceExe) {
      Invoke-Native 'WinSW uninstall' $ServiceExe @('uninstall')
    } else {
      Invoke-Native 'sc.exe delete' 'sc.exe' @('delete', $ServiceName)
    }
    Write-Host "Service $ServiceName removed."
    Start-Sleep -Seconds 2   # let the wrapper process exit before its files are deleted
  }
  # A folder that is the current directory cannot be deleted.
  Set-Location -LiteralPath $env:SystemRoot
  [Environment]::CurrentDirectory = $env:SystemRoot
  if (Test-Path -LiteralPath $ProgramDir) {
    Remove-Item -LiteralPath $ProgramDir -Recurse -Force
    Write-Host "Removed $ProgramDir."
  }
  if ($RemoveData) {
    if (Test-Path -LiteralPath $DataRoot) {
      Remove-Item -LiteralPath $DataRoot -Recurse -Force
      Write-Host "Removed $DataRoot (config, unsent data, logs)."
    }
  } else {
    Write-Host "Kept $DataRoot (config, unsent data, logs). Delete it by hand, or run again with -Uninstall -RemoveData."
  }
  return
}

# ---------------------------------------------------------------- checks
if (-not (Test-Path -LiteralPath $AgentSource -PathType Leaf)) {
  throw "$AgentSource is missing: run the script from the unpacked kanshi-agent-<version>-windows.zip (or a tree built with npm run build)."
}
if (-not (Test-Path -LiteralPath $XmlSource -PathType Leaf)) { throw "$XmlSource is missing." }

$nodeExe = Find-Node
$nodeVersion = (& $nodeExe -p 'process.versions.node' | Out-String).Trim()
$nodeMajor = 0
if (-not [int]::TryParse(($nodeVersion -split '\.')[0], [ref]$nodeMajor)) {
  throw "Could not read the version of $nodeExe (got '$nodeVersion')."
}
if ($nodeMajor -lt 20) {
  throw "$nodeExe is Node.js $nodeVersion; kanshi needs 20 or newer. Install the Node.js 20 LTS (or newer) .msi and run this script again."
}
if ($nodeExe -like (Join-Path $env:SystemDrive 'Users\*')) {
  Write-Warning "$nodeExe is inside a user profile; the service runs as LocalSystem. Prefer the machine-wide Node.js .msi (C:\Program Files\nodejs)."
}
Write-Host "Node.js $nodeVersion at $nodeExe"

if ($WinSW) {
  if (-not (Test-Path -LiteralPath $WinSW -PathType Leaf)) { throw "WinSW executable not found at $WinSW" }
  $WinSW = (Resolve-Path -LiteralPath $WinSW).Path
} elseif (-not (Test-Path -LiteralPath $ServiceExe -PathType Leaf)) {
  throw 'First install: give -WinSW <path of WinSW-x64.exe> (WinSW 2.x, downloaded on a connected PC and carried in).'
}
if ($CollectorUrl -and $CollectorUrl -notmatch '^wss?://') {
  throw "-CollectorUrl must start with ws:// or wss://, e.g. ws://kanshi01.example.lg.jp:8080/v1/agent (got $CollectorUrl)"
}
if ($CaFile -and -not (Test-Path -LiteralPath $CaFile -PathType Leaf)) { throw "CA file not found at $CaFile" }

# ---------------------------------------------------------------- program files
$wasRunning = $false
$existing = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($existing -and $existing.Status -ne 'Stopped') { $wasRunning = $true }
Stop-Agent

if (-not (Test-Path -LiteralPath $ProgramDir)) {
  New-Item -ItemType Directory -Path $ProgramDir | Out-Null
}
$sourceFull = [IO.Path]::GetFullPath($AgentSource)
if ($sourceFull -ieq [IO.Path]::GetFullPath($AgentTarget)) {
  Write-Host "Running from $ProgramDir itself: program files left as they are."
} else {
  $newVersion = Get-AgentVersion $AgentSource
  if ($newVersion -notmatch '^\d+\.\d+\.\d+') { throw "$AgentSource does not run with $nodeExe (--version said: $newVersion)" }
  if (Test-Path -LiteralPath $AgentTarget -PathType Leaf) {
    if (-not (Test-Path -LiteralPath $PreviousDir)) { New-Item -ItemType Directory -Path $PreviousDir | Out-Null }
    Copy-Item -LiteralPath $AgentTarget -Destination $AgentPrevious -Force
    Write-Host ("Kept the installed version {0} in {1} (for -Rollback)." -f (Get-AgentVersion $AgentPrevious), $PreviousDir)
  }
  Copy-Item -LiteralPath $AgentSource -Destination $AgentTarget -Force
  Copy-Item -LiteralPath $PSCommandPath -Destination (Join-Path $ProgramDir 'install-agent.ps1') -Force
  $docDir = Join-Path $ProgramDir 'docs'
  if (-not (Test-Path -LiteralPath $docDir)) { New-Item -ItemType Directory -Path $docDir | Out-Null }
  foreach ($d in $DocSources) { Copy-Item -LiteralPath $d -Destination $docDir -Force }
  if (Test-Path -LiteralPath $ExampleSource) { Copy-Item -LiteralPath $ExampleSource -Destination (Join-Path $docDir 'agent.example.yaml') -Force }
  # Earlier installs ran dist\agent\main.js with node_modules: that tree is not used any more.
  foreach ($old in @('dist', 'node_modules', 'examples', 'deploy', 'package.json')) {
    $path = Join-Path $ProgramDir $old
    if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $path -Recurse -Force }
  }
  Write-Host "Installed kanshi agent $newVersion as $AgentTarget."
}
if ($WinSW) {
  Copy-Item -LiteralPath $WinSW -Destination $ServiceExe -Force
  Unblock-File -LiteralPath $ServiceExe
  Write-Host "Installed WinSW as $ServiceExe."
}
$xml = [IO.File]::ReadAllText($XmlSource)
$xml = $xml.Replace('C:\Program Files\nodejs\node.exe', [Security.SecurityElement]::Escape($nodeExe))
$xml = $xml.Replace('C:\Program Files\kanshi', [Security.SecurityElement]::Escape($ProgramDir))
$xml = $xml.Replace('C:\ProgramData\kanshi', [Security.SecurityElement]::Escape($DataRoot))
[IO.File]::WriteAllText($ServiceXml, $xml, $Utf8NoBom)

# ---------------------------------------------------------------- data folder and ACL
foreach ($dir in @($DataRoot, $DataDir, $LogDir)) {
  if (-not (Test-Path -LiteralPath $dir)) { New-Item -ItemType Directory -Path $dir | Out-Null }
}
# Only SYSTEM (S-1-5-18) and Administrators (S-1-5-32-544), by SID so that it
# works in every Windows language. Set before the token is written.
Invoke-Native 'icacls (data folder)' 'icacls.exe' @($DataRoot, '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F', '/Q')
Invoke-Native 'icacls (contents)' 'icacls.exe' @((Join-Path $DataRoot '*'), '/reset', '/T', '/C', '/Q')
Write-Host "$DataRoot is readable by SYSTEM and Administrators only."

if ($CaFile) {
  Copy-Item -LiteralPath $CaFile -Destination $CaTarget -Force
  Write-Host "Copied the CA certificate to $CaTarget."
}

# ---------------------------------------------------------------- agent.yaml
$ready = $true
if (Test-Path -LiteralPath $ConfigFile) {
  Write-Host "Kept $ConfigFile."
} else {
  $agentId = $Id
  if (-not $agentId) { $agentId = $env:COMPUTERNAME.ToLowerInvariant() }
  $url = $CollectorUrl
  if (-not $url) {
    $url = 'ws://COLLECTOR-HOST:8080/v1/agent'
    $ready = $false
  }
  $token = ''
  try {
    $secure = Read-Host -AsSecureString "Agent token printed by 'kanshi-collector token add $agentId' (Enter to fill in later)"
    $bstr = [Runtime.InteropServices.Marshal]::SecureStringToBSTR($secure)
    try {
      $token = [Runtime.InteropServices.Marshal]::PtrToStringBSTR($bstr).Trim()
    } finally {
      [Runtime.InteropServices.Marshal]::ZeroFreeBSTR($bstr)
    }
  } catch {
    Write-Warning 'Could not ask for the token (no console); fill it in by hand.'
  }
  if ($token) {
    $tokenLine = "  token: '" + $token.Replace("'", "''") + "'"
  } else {
    $tokenLine = "  # token: '<the token printed by kanshi-collector token add>'"
    $ready = $false
  }
  if ($CaFile) {
    $caLine = "  ca: '$CaTarget'"
  } else {
    $caLine = "  # ca: '$CaTarget'   # for wss:// with a private CA"
  }
  $yaml = @"
# kanshi agent: written by install-agent.ps1. Every key and its default:
# $ProgramDir\docs\configuration.md
# Save as UTF-8. Windows paths in single quotes.
id: $agentId
collector:
  url: $url
$tokenLine
$caLine
interval: 10s
dataDir: '$DataDir'
inputs:
  enabled: [cpu, mem, disk, diskio, net, system]
# checks:                                  # service checks, see configuration.md 5.4
#   - { name: ticket-printer, type: printer, printer: 'TicketPrinter01', interval: 1m }
#   - { name: spooler, type: windows, unit: Spooler }
# logs:                                    # log collection, see configuration.md 5.7
#   - { path: 'C:\Kiosk\logs\*.log', encoding: cp932, minLevel: warning }
#   - { type: winevent, channel: Application, minLevel: error }
push:
  enabled: false
log:
  level: info
"@
  [IO.File]::WriteAllText($ConfigFile, $yaml.Replace("`r`n", "`n"), $Utf8NoBom)
  Write-Host "Wrote $ConfigFile (id: $agentId)."
  if (-not $ready) {
    Write-Host "Fill in collector.url and collector.token in $ConfigFile (Notepad as administrator, save as UTF-8), then: Start-Service $ServiceName"
  }
  Write-Host "On the collector, the token for this agent comes from: kanshi-collector token add $agentId --role kiosk --site <site> --config /etc/kanshi/collector.yaml"
}

# ---------------------------------------------------------------- service
if (-not (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue)) {
  Invoke-Native 'WinSW install' $ServiceExe @('install')
  Write-Host "Service $ServiceName installed."
}
# The same settings as kanshi-agent.xml, applied again so that an upgrade gets them too.
Invoke-Native 'sc.exe config' 'sc.exe' @('config', $ServiceName, 'start=', 'delayed-auto')
Invoke-Native 'sc.exe failure' 'sc.exe' @('failure', $ServiceName, 'reset=', '3600', 'actions=', 'restart/10000/restart/30000/restart/60000')
Invoke-Native 'sc.exe failureflag' 'sc.exe' @('failureflag', $ServiceName, '1')

if ($ready -or $wasRunning) {
  Start-Service -Name $ServiceName
  Start-Sleep -Seconds 5
  $svc = Get-Service -Name $ServiceName
  $svc | Format-Table -AutoSize -Property @('Name', 'Status', 'StartType') | Out-String | Write-Host
  $outLog = Join-Path $LogDir ($ServiceName + '.out.log')
  $errLog = Join-Path $LogDir ($ServiceName + '.err.log')
  if ($svc.Status -ne 'Running') {
    Write-Warning "$ServiceName is not running. Last lines of $errLog :"
    if (Test-Path -LiteralPath $errLog) { Get-Content -LiteralPath $errLog -Tail 5 -Encoding UTF8 | Write-Host }
  } elseif (Test-Path -LiteralPath $outLog) {
    Get-Content -LiteralPath $outLog -Tail 3 -Encoding UTF8 | Write-Host
  }
  Write-Host "Log: $outLog (look for ""connected to collector"")."
} else {
  Write-Host "Service $ServiceName is installed and not started."
}
