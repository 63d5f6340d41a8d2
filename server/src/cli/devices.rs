//! `stint-server devices`, `bind-device` and `revoke-device`.

use stint_server::store::Store;

use super::{person_id, print_json};

#[derive(clap::Args)]
pub struct Devices {
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BindDevice {
    device_id: String,
    email: String,
}

#[derive(clap::Args)]
pub struct RevokeDevice {
    device_id: String,
}

pub fn list(store: &Store, Devices { json }: Devices) -> anyhow::Result<()> {
    let devices = store.devices()?;
    if json {
        print_json(&devices);
    } else {
        println!(
            "{:<38} {:<20} {:<12} {:<26} LAST IP",
            "DEVICE", "HOST", "USER", "LAST SEEN"
        );
        for d in devices {
            println!(
                "{:<38} {:<20} {:<12} {:<26} {}{}",
                d.device_id,
                d.hostname,
                d.os_user,
                d.last_seen,
                d.last_ip,
                if d.revoked { " (revoked)" } else { "" }
            );
        }
    }
    Ok(())
}

pub fn bind(store: &Store, args: BindDevice) -> anyhow::Result<()> {
    store.bind_device(&args.device_id, &person_id(store, &args.email)?)?;
    println!("bound");
    Ok(())
}

pub fn revoke(store: &Store, args: RevokeDevice) -> anyhow::Result<()> {
    store.revoke_device(&args.device_id)?;
    println!("revoked");
    Ok(())
}
