package chaos

// Operations of a schedule.
const (
	// Device operations (Step.Device is the device).
	OpConnect   = "connect"   // first access: Provision, FolderSync, Sync
	OpSync      = "sync"      // Sync (FolderSync first when needed)
	OpPing      = "ping"      // Ping with a 1 s heartbeat
	OpProvision = "provision" // Provision both phases
	OpSendMail  = "sendmail"  // SendMail to another user
	OpFetch     = "fetch"     // ItemOperations fetch of an attachment (Sync when none known)

	// UEM admin actions (Step.Device is the association's device).
	OpAllow        = "allow"
	OpBlock        = "block"
	OpWipe         = "wipe"
	OpRemove       = "remove"
	OpAssignPolicy = "assign_policy" // Arg 0: revert to the default, 1-2: chaos policies
	OpChangePolicy = "change_policy" // a new version of chaos policy Arg (1-2)
	OpAutoBlock    = "auto_block"    // On: block new unregistered devices (PREF-02)
	OpMailboxLimit = "mailbox_limit" // the default policy's per-mailbox device limit, Arg (0 off)
	OpAttachments  = "attachments"   // attachment control: Arg 0 off, 1 remove, 2 encrypt, 3 deliver as is

	// Faults.
	OpUEMDown          = "uem_down"         // On: the UEM's gateway listener refuses connections
	OpUEMLatency       = "uem_latency"      // Arg ms on every gateway → UEM call (0 clears)
	OpUEMHang          = "uem_hang"         // On: gateway → UEM calls get no answer
	OpUEMPartition     = "uem_partition"    // On: gateway → UEM one way cut (notifications flow)
	OpUEMStatus        = "uem_status"       // Arg: the UEM answers every gateway call with 401, 403, 429 or 5xx (0 clears)
	OpNotifyDrop       = "notify_drop"      // On: notifications are lost
	OpNotifyDelay      = "notify_delay"     // On: UEM → gateway cut; notifications retried until Off (delayed)
	OpExchangeDown     = "exchange_down"    // On: Exchange refuses connections
	OpExchangeSlow     = "exchange_slow"    // Arg ms on every Exchange request (0 clears)
	OpDiskFull         = "disk_full"        // On: the gateway's data directory is full (subprocess with DiskFaults)
	OpDiskReadOnly     = "disk_readonly"    // On: the gateway's data directory is read-only (subprocess with DiskFaults)
	OpClockJump        = "clock_jump"       // Arg seconds (negative: backward) on the gateway's wall clock (in-process)
	OpHeal             = "heal"             // every fault cleared (the clock set right)
	OpRestart          = "restart"          // graceful gateway restart
	OpRestartUEMDown   = "restart_uem_down" // restart while the UEM is down (it stays down until uem_down off or heal)
	OpRestartPortTaken = "restart_failed"   // stop; a start that fails (device port taken); start again
	OpKill             = "kill"             // kill -9 and start again (subprocess, external with hooks)
	OpWait             = "wait"             // Arg ms
)

type opKind int

const (
	kindUnknown opKind = iota
	kindDevice
	kindAdmin
	kindFault
	kindGateway
	kindWait
)

var opKinds = map[string]opKind{
	OpConnect: kindDevice, OpSync: kindDevice, OpPing: kindDevice, OpProvision: kindDevice, OpSendMail: kindDevice, OpFetch: kindDevice,
	OpAllow: kindAdmin, OpBlock: kindAdmin, OpWipe: kindAdmin, OpRemove: kindAdmin, OpAssignPolicy: kindAdmin, OpChangePolicy: kindAdmin,
	OpAutoBlock: kindAdmin, OpMailboxLimit: kindAdmin, OpAttachments: kindAdmin,
	OpUEMDown: kindFault, OpUEMLatency: kindFault, OpUEMHang: kindFault, OpUEMPartition: kindFault, OpUEMStatus: kindFault,
	OpNotifyDrop: kindFault, OpNotifyDelay: kindFault, OpExchangeDown: kindFault, OpExchangeSlow: kindFault, OpHeal: kindFault,
	OpDiskFull: kindFault, OpDiskReadOnly: kindFault, OpClockJump: kindFault,
	OpRestart: kindGateway, OpRestartUEMDown: kindGateway, OpRestartPortTaken: kindGateway, OpKill: kindGateway,
	OpWait: kindWait,
}

// opSwitch are the operations that take On.
var opSwitch = map[string]bool{OpAutoBlock: true, OpUEMDown: true, OpUEMHang: true, OpUEMPartition: true,
	OpNotifyDrop: true, OpNotifyDelay: true, OpExchangeDown: true,
	OpDiskFull: true, OpDiskReadOnly: true}

func kindOf(op string) opKind { return opKinds[op] }

// isFault reports whether a step injects a fault (counted in the results).
func isFault(s Step) bool {
	switch kindOf(s.Op) {
	case kindFault:
		return s.Op != OpHeal && (s.On || s.Arg != 0)
	case kindGateway:
		return true
	}
	return false
}
