<#
.SYNOPSIS
  Installs, upgrades or removes the kanshi agent as a Windows service (WinSW).
.DESCRIPTION
  Run from the unpacked kanshi tree in an elevated PowerShell:
    .\deploy\windows\install-agent.ps1 -WinSW C:\media\WinSW-x64.exe
    .\deploy\windows\install-agent.ps1 -Uninstall
  Idempotent: an existing C:\ProgramData\kanshi\agent.yaml is never overwritten.
#>
[CmdletBinding()]
param(
  [string]$WinSW = "",
  [switch]$Uninstall
)
$ErrorActionPreference = 'Stop'

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw 'Run this script in an elevated PowerShell (Run as administrator).'
}

$ProgramDir = Join-Path $env:ProgramFiles 'kanshi'
$DataRoot = Join-Path $env:ProgramData 'kanshi'
$ServiceExe = Join-Path $ProgramDir 'kanshi-agent.exe'
$Source = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path

if ($Uninstall) {
  if (Test-Path $ServiceExe) {
    & $ServiceExe stop 2>$null | Out-Null
    & $ServiceExe uninstall | Out-Null
  }
  Remove-Item -Recurse -Force $ProgramDir -ErrorAction SilentlyContinue
  Write-Host "kanshi agent removed. Data and config are kept in $DataRoot (delete it by hand to remove unsent data too)."
  return
}

$node = Get-Command node.exe -ErrorAction SilentlyContinue
if (-not $node) { throw 'node.exe was not found: install Node.js 20 LTS or newer (MSI from the Node.js site, carried in on approved media).' }
$major = [int]((& $node.Source -p 'process.versions.node').Split('.')[0])
if ($major -lt 20) { throw "Node.js $major is too old: kanshi needs 20 or newer." }

if (-not (Test-Path (Join-Path $Source 'dist\agent\main.js'))) { throw "dist\agent\main.js is missing under $Source" }
if (-not (Test-Path $ServiceExe) -and -not $WinSW) { throw 'Give -WinSW <path to WinSW-x64.exe> on the first install.' }

$existing = Get-Service -Name 'kanshi-agent' -ErrorAction SilentlyContinue
if ($existing -and $existing.Status -eq 'Running') { & $ServiceExe stop | Out-Null }

New-Item -ItemType Directory -Force -Path $ProgramDir | Out-Null
foreach ($d in 'dist', 'node_modules', 'examples', 'docs') {
  Copy-Item -Recurse -Force (Join-Path $Source $d) $ProgramDir
}
Copy-Item -Force (Join-Path $Source 'package.json') $ProgramDir
if ($WinSW) { Copy-Item -Force $WinSW $ServiceExe }
$xml = Get-Content -Raw (Join-Path $Source 'deploy\windows\kanshi-agent.xml')
$xml = $xml.Replace('C:\Program Files\nodejs\node.exe', $node.Source)
Set-Content -Encoding UTF8 -Path (Join-Path $ProgramDir 'kanshi-agent.xml') -Value $xml

foreach ($d in $DataRoot, (Join-Path $DataRoot 'agent-data'), (Join-Path $DataRoot 'logs')) {
  New-Item -ItemType Directory -Force -Path $d | Out-Null
}
$config = Join-Path $DataRoot 'agent.yaml'
if (-not (Test-Path $config)) {
  $text = Get-Content -Raw (Join-Path $Source 'examples\agent.yaml')
  $text = $text.Replace('dataDir: ./var/agent', "dataDir: 'C:\ProgramData\kanshi\agent-data'")
  Set-Content -Encoding UTF8 -Path $config -Value $text
  Write-Host "Wrote $config from the example: set id, collector.url and collector.token, then start the service."
}
# The config holds the token: only SYSTEM and Administrators may read it.
& icacls.exe $DataRoot /inheritance:r /grant:r 'SYSTEM:(OI)(CI)F' 'Administrators:(OI)(CI)F' | Out-Null

if (-not $existing) { & $ServiceExe install | Out-Null; Write-Host 'Service kanshi-agent installed (Automatic, delayed start).' }
& $ServiceExe start | Out-Null
Get-Service -Name 'kanshi-agent' | Format-Table -AutoSize Name, Status, StartType
